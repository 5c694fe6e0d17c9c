import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { sql, rowSchema, type Queryable, type DatabaseTransactionConnection } from './db.ts';

/** An event as the domain produces it. */
export type NewEvent = { type: string; data: unknown };

/** The published envelope (DESIGN.md): what the log, projectors and audit consumers see. */
export type StoredEvent = {
  eventId: string;
  type: string;
  schemaVersion: number;
  category: string;
  streamId: string;
  streamVersion: number;
  globalPosition: number;
  tenantId: string | null;
  occurredAt: string;
  actor: string | null;
  correlationId: string;
  causationId: string | null;
  data: unknown;
};

/** 0 means "the stream must not exist yet"; 'any' skips the check (append-only audit streams). */
export type ExpectedVersion = number | 'any';

export type StreamAppend = { streamId: string; expectedVersion: ExpectedVersion; events: NewEvent[] };

export type AppendContext = {
  tenantId: string | null;
  actor: string | null;
  correlationId: string;
  causationId: string | null;
  occurredAt: Date;
};

export type EventTypeInfo = { schemaVersion: number; category: string };
export type EventRegistry = (type: string) => EventTypeInfo;

export type AppendResult = {
  /** The new version of each stream appended to, by stream id. */
  versions: Record<string, number>;
  /** Global position of the last event appended (0 when nothing was appended). */
  lastPosition: number;
  events: StoredEvent[];
};

export class WrongExpectedVersionError extends Error {
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  readonly actual: number;
  readonly statusCode = 409;
  readonly code = 'VERSION_CONFLICT';
  constructor(streamId: string, expected: ExpectedVersion, actual: number) {
    super(`stream ${streamId} is at version ${actual}, expected ${expected}`);
    this.name = 'WrongExpectedVersionError';
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

const EventRow = Type.Object({
  event_id: Type.String(), type: Type.String(), schema_version: Type.Number(), category: Type.String(),
  stream_id: Type.String(), stream_version: Type.Number(), global_position: Type.Number(),
  tenant_id: Type.Union([Type.String(), Type.Null()]), occurred_at: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]), correlation_id: Type.String(),
  causation_id: Type.Union([Type.String(), Type.Null()]), data: Type.Unknown(),
});
const eventRow = rowSchema(EventRow);
const EVENT_COLUMNS = sql.fragment`event_id, type, schema_version, category, stream_id, stream_version,
  global_position, tenant_id, to_json(occurred_at)#>>'{}' as occurred_at, actor, correlation_id, causation_id, data`;

function toStoredEvent(row: Static<typeof EventRow>): StoredEvent {
  // slonik returns int8 (global_position) as a bigint whatever the row type says; JSON cannot carry
  // a bigint, and positions stay far below 2^53, so the envelope's number is made true here.
  return {
    eventId: row.event_id, type: row.type, schemaVersion: row.schema_version, category: row.category,
    streamId: row.stream_id, streamVersion: row.stream_version, globalPosition: row.global_position,
    tenantId: row.tenant_id, occurredAt: row.occurred_at, actor: row.actor,
    correlationId: row.correlation_id, causationId: row.causation_id, data: row.data,
  };
}

/**
 * Appends to one or more streams atomically, with an outbox row per event.
 *
 * Global positions are drawn under a transaction-scoped advisory lock, so they are handed out
 * in commit order: once position N is visible, no transaction can still commit a position below
 * N. The relay and every position watermark (read-your-writes, projector checkpoints) rely on it.
 * Call inside a transaction; the lock is held until it commits, so keep work after this short.
 */
export async function appendToStreams(
  tx: DatabaseTransactionConnection, appends: StreamAppend[], context: AppendContext,
  registry: EventRegistry, topicOf: (category: string) => string,
): Promise<AppendResult> {
  const versions: Record<string, number> = {};
  const stored: StoredEvent[] = [];
  if (appends.every((a) => a.events.length === 0)) {
    for (const a of appends) versions[a.streamId] = await streamVersion(tx, a.streamId);
    return { versions, lastPosition: 0, events: [] };
  }
  await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext('ledgerline.append'))`);
  for (const append of appends) {
    const actual = await streamVersion(tx, append.streamId);
    if (append.expectedVersion !== 'any' && append.expectedVersion !== actual) {
      throw new WrongExpectedVersionError(append.streamId, append.expectedVersion, actual);
    }
    let version = actual;
    for (const event of append.events) {
      version += 1;
      const info = registry(event.type);
      const row = await tx.one(sql.type(eventRow)`
        insert into events (event_id, stream_id, stream_version, type, schema_version, category, tenant_id,
                            data, actor, correlation_id, causation_id, occurred_at)
        values (${randomUUID()}, ${append.streamId}, ${version}, ${event.type}, ${info.schemaVersion}, ${info.category},
                ${context.tenantId}, ${sql.jsonb(event.data as never)}, ${context.actor}, ${context.correlationId},
                ${context.causationId}, ${sql.timestamp(context.occurredAt)})
        returning ${EVENT_COLUMNS}`);
      const storedEvent = toStoredEvent(row);
      await tx.query(sql.unsafe`
        insert into outbox (global_position, topic, message_key)
        values (${storedEvent.globalPosition}, ${topicOf(info.category)}, ${messageKey(storedEvent)})`);
      stored.push(storedEvent);
    }
    versions[append.streamId] = version;
  }
  await tx.query(sql.unsafe`select pg_notify('ledgerline_outbox', '')`);
  return { versions, lastPosition: stored.at(-1)?.globalPosition ?? 0, events: stored };
}

/** All events of one tenant keep their order; a platform aggregate's events keep theirs. */
export function messageKey(event: Pick<StoredEvent, 'tenantId' | 'streamId'>): string {
  return event.tenantId ?? event.streamId;
}

export async function streamVersion(db: Queryable, streamId: string): Promise<number> {
  return Number(await db.oneFirst(sql.unsafe`
    select coalesce(max(stream_version), 0) from events where stream_id = ${streamId}`));
}

export async function readStream(db: Queryable, streamId: string): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events where stream_id = ${streamId} order by stream_version`);
  return rows.map(toStoredEvent);
}

/** Events of one category (optionally one tenant) with from < position <= to, in position order. */
export async function readCategory(
  db: Queryable, category: string, range: { after: number; upTo: number; tenantId?: string; limit?: number },
): Promise<StoredEvent[]> {
  const tenant = range.tenantId === undefined ? sql.fragment`true` : sql.fragment`tenant_id = ${range.tenantId}`;
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events
    where category = ${category} and ${tenant} and global_position > ${range.after} and global_position <= ${range.upTo}
    order by global_position limit ${range.limit ?? 1000}`);
  return rows.map(toStoredEvent);
}

/** The highest position of a category (and tenant) at or below `position`: what a reader must have applied. */
export async function lastPositionAtOrBelow(db: Queryable, category: string, position: number, tenantId?: string): Promise<number> {
  const tenant = tenantId === undefined ? sql.fragment`true` : sql.fragment`tenant_id = ${tenantId}`;
  return Number(await db.oneFirst(sql.unsafe`
    select coalesce(max(global_position), 0) from events
    where category = ${category} and ${tenant} and global_position <= ${position}`));
}

/** Every tenant-scoped event (all categories) with after < position <= upTo, in position order. */
export async function readTenantScoped(db: Queryable, range: { after: number; upTo: number; limit?: number }): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events
    where tenant_id is not null and global_position > ${range.after} and global_position <= ${range.upTo}
    order by global_position limit ${range.limit ?? 1000}`);
  return rows.map(toStoredEvent);
}
