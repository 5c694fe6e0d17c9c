import type { KeyObject } from 'node:crypto';
import { personalFieldsOf } from '../../domain/personal-fields.ts';
import { openLegacy } from '../../domain/shared/personal-data.ts';
import type { Queryable } from '../adapters/db.ts';
import type { EmailKey } from './email-key.ts';
import type { AppendContext, StreamAppend } from './event-store.ts';
import { keyIdOf, openValue, sealValue } from './sealed-envelope.ts';
import { dropKeyCache, keyForSubject, keysById } from './subject-keys.ts';

/**
 * Seals the personal fields of a command's new events under their subjects' keys, before the
 * append: the events table, the outbox and Kafka only ever hold the ciphertext. Microseconds per
 * field once the key is cached; the first event of a subject creates its key.
 */
export async function sealAppends(
  db: Queryable,
  appends: readonly StreamAppend[],
  context: Pick<AppendContext, 'actor' | 'tenantId'>,
  emailKey: EmailKey,
): Promise<StreamAppend[]> {
  if (!appends.some((a) => a.events.some((e) => personalFieldsOf(e.type)))) return [...appends];
  return Promise.all(
    appends.map(async (append) => ({
      ...append,
      events: await Promise.all(
        append.events.map(async (event) => {
          const personal = personalFieldsOf(event.type);
          if (!personal) return event;
          const data = { ...(event.data as Record<string, unknown>) };
          const { keyId, key } = await keyForSubject(db, personal.subject(data, context), emailKey);
          for (const field of personal.fields) if (data[field] !== undefined) data[field] = sealValue(data[field], keyId, key);
          return { ...event, data };
        }),
      ),
    })),
  );
}

/** Events whose appearance means keys were deleted: a reader drops its cached keys before opening past them. */
const ERASING = new Set(['SubjectErased', 'TenantContentErased', 'TenantDeleted']);

/**
 * The events with their personal fields opened: the plain values, or each field's erased
 * value (domain/personal-fields.ts) when its key is gone. Keys are read through `db` (one
 * query for the keys not cached); `cached: false` for reads that must see an erasure at once.
 */
export async function openEvents<E extends { type: string; data: unknown }>(
  db: Queryable,
  events: readonly E[],
  options: { cached?: boolean } = {},
): Promise<E[]> {
  const keyIds = new Set<string>();
  let erasing = false;
  let personalEvents = 0;
  for (const event of events) {
    if (ERASING.has(event.type)) erasing = true;
    const personal = personalFieldsOf(event.type);
    if (!personal) continue;
    personalEvents += 1;
    const data = event.data as Record<string, unknown>;
    for (const field of personal.fields) {
      const value = data[field];
      const keyId = typeof value === 'string' ? keyIdOf(value) : null;
      if (keyId) keyIds.add(keyId);
    }
  }
  if (erasing) dropKeyCache();
  if (personalEvents === 0) return [...events];
  const keys = keyIds.size === 0 ? new Map<string, KeyObject | null>() : await keysById(db, keyIds, options);
  return events.map((event) => {
    const personal = personalFieldsOf(event.type);
    if (!personal) return event;
    const data = { ...(event.data as Record<string, unknown>) };
    for (const field of personal.fields) {
      const value = data[field];
      if (typeof value !== 'string') continue;
      data[field] = openField(value, keys, personal.erased[field]);
    }
    return { ...event, data };
  });
}

function openField(value: string, keys: ReadonlyMap<string, KeyObject | null>, erased: unknown): unknown {
  try {
    if (value.startsWith('ll0.')) return openLegacy(value);
    const keyId = keyIdOf(value);
    const key = keyId === null ? null : keys.get(keyId);
    return key ? openValue(value, key) : erased;
  } catch {
    // A value that does not open (tampered, or not ours) reads as erased rather than leaking its text.
    return erased;
  }
}
