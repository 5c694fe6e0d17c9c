import { upcastEvent } from '../../domain/upcasters.ts';
import type { StoredEvent } from './event-store.ts';

/**
 * Every event read back (from the event store or from Kafka) passes through here, so deciders,
 * projectors and rebuilds only ever see the current version of each event type. Kafka and the
 * events table keep what was written; nothing rewrites the log.
 */
export function upcast(event: StoredEvent): StoredEvent {
  return upcastEvent(event);
}

/** A Kafka message's value (the envelope as JSON), at the current version. */
export function eventFromMessage(value: string): StoredEvent {
  return upcast(JSON.parse(value) as StoredEvent);
}
