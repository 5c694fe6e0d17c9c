import { eventDefinition, isDomainEventType } from '../domain/events.ts';
import type { EventRegistry } from './event-store.ts';

/** The event store asks the domain's catalogue for each event's schema version and category. */
export const domainEventRegistry: EventRegistry = (type) => {
  if (!isDomainEventType(type)) throw new Error(`unknown event type ${type}: add it to domain/events.ts`);
  const { schemaVersion, category } = eventDefinition(type);
  return { schemaVersion, category };
};
