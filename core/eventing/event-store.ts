import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { jsonbParameter, sql, rowSchema, type Queryable, type DatabaseTransactionConnection } from '../adapters/db.ts';
import { upcast } from './upcast.ts';

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

export type EventTypeInfo = {
  schemaVersion: number;
  category: string;
  /** Why the event does not match its published schema, or undefined when it does. */
  check?: (event: NewEvent) => string | undefined;
};
export type EventRegistry = (type: string) => EventTypeInfo;

export type AppendResult = {
  /** The new version of each stream appended to, by stream id. */
  versions: Record<string, number>;
  /** Global position of the last event appended (0 when nothing was appended). */
  lastPosition: number;
  events: StoredEvent[];
};

/** An event that does not match its published schema: a bug in a decider, never appended. */
export class InvalidEventError extends Error {
  constructor(type: string, problem: string) {
    super(`event ${type} does not match its schema: ${problem}`);
    this.name = 'InvalidEventError';
  }
}

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
  event_id: Type.String(),
  type: Type.String(),
  schema_version: Type.Number(),
  category: Type.String(),
  stream_id: Type.String(),
  stream_version: Type.Number(),
  global_position: Type.Number(),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  correlation_id: Type.String(),
  causation_id: Type.Union([Type.String(), Type.Null()]),
  data: Type.Unknown(),
});
const eventRow = rowSchema(EventRow);
const EVENT_COLUMNS = sql.fragment`event_id, type, schema_version, category, stream_id, stream_version,
  global_position, tenant_id, to_json(occurred_at)#>>'{}' as occurred_at, actor, correlation_id, causation_id, data`;

/** The envelope as written: what the relay publishes (Kafka keeps each event's written version). */
function toEnvelope(row: Static<typeof EventRow>): StoredEvent {
  // slonik returns int8 (global_position) as a bigint whatever the row type says; JSON cannot carry
  // a bigint, and positions stay far below 2^53, so the envelope's number is made true here.
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    category: row.category,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition: row.global_position,
    tenantId: row.tenant_id,
    occurredAt: row.occurred_at,
    actor: row.actor,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    data: row.data,
  };
}

/** Every read for deciding or projecting gives the current version of each event (older rows are upcast, never rewritten). */
function toStoredEvent(row: Static<typeof EventRow>): StoredEvent {
  return upcast(toEnvelope(row));
}

/** One command's appends as the append function takes them (core/migrations/004_append_function.sql). */
export type AppendCommand = {
  appends: StreamAppend[];
  context: AppendContext;
  /** The Idempotency-Key answer, recorded with the events; the function adds `position` to its body. */
  idempotency?: { actor: string; key: string; hash: string; statusCode: number; body: Record<string, unknown> };
};

export type AppendOutcome = { status: 'ok'; result: AppendResult } | { status: 'conflict'; error: WrongExpectedVersionError } | { status: 'idempotency_race' };

const AppendReply = Type.Array(
  Type.Union([
    Type.Object({
      status: Type.Literal('ok'),
      positions: Type.Array(Type.Number()),
      versions: Type.Record(Type.String(), Type.Number()),
      occurredAt: Type.String(),
    }),
    Type.Object({ status: Type.Literal('conflict'), streamId: Type.String(), expected: Type.Number(), actual: Type.Number() }),
    Type.Object({ status: Type.Literal('idempotency_race') }),
  ]),
);
const appendReply = rowSchema(Type.Object({ results: AppendReply }));

/**
 * Appends several commands in one statement: each atomically or not at all, all under one
 * take of the append lock and, outside an explicit transaction, one commit (group commit).
 * Events are checked against the registry before anything is sent.
 */
export async function appendCommands(
  db: Queryable,
  commands: AppendCommand[],
  registry: EventRegistry,
  topicOf: (category: string) => string,
): Promise<AppendOutcome[]> {
  const prepared = commands.map((command) => ({
    command,
    streams: command.appends.map((append) => ({
      streamId: append.streamId,
      expected: append.expectedVersion === 'any' ? null : append.expectedVersion,
      events: append.events.map((event) => {
        const info = registry(event.type);
        const problem = info.check?.(event);
        if (problem !== undefined) throw new InvalidEventError(event.type, problem);
        return {
          eventId: randomUUID(),
          type: event.type,
          schemaVersion: info.schemaVersion,
          category: info.category,
          topic: topicOf(info.category),
          data: event.data,
        };
      }),
    })),
  }));
  const batch = prepared.map(({ command, streams }) => ({
    tenantId: command.context.tenantId,
    actor: command.context.actor,
    correlationId: command.context.correlationId,
    causationId: command.context.causationId,
    occurredAt: command.context.occurredAt.toISOString(),
    streams,
    ...(command.idempotency ? { idempotency: command.idempotency } : {}),
  }));
  const { results } = await db.one(sql.type(appendReply)`select ll_append(${jsonbParameter(batch)}) as results`);
  return results.map((reply, index): AppendOutcome => {
    if (reply.status === 'idempotency_race') return { status: 'idempotency_race' };
    if (reply.status === 'conflict') return { status: 'conflict', error: new WrongExpectedVersionError(reply.streamId, reply.expected, reply.actual) };
    const { command, streams } = prepared[index]!;
    const events: StoredEvent[] = [];
    let next = 0;
    for (const stream of streams) {
      const first = reply.versions[stream.streamId]! - stream.events.length;
      stream.events.forEach((event, i) => {
        events.push({
          eventId: event.eventId,
          type: event.type,
          schemaVersion: event.schemaVersion,
          category: event.category,
          streamId: stream.streamId,
          streamVersion: first + i + 1,
          globalPosition: reply.positions[next++]!,
          tenantId: command.context.tenantId,
          occurredAt: reply.occurredAt,
          actor: command.context.actor,
          correlationId: command.context.correlationId,
          causationId: command.context.causationId,
          data: event.data,
        });
      });
    }
    return { status: 'ok', result: { versions: reply.versions, lastPosition: reply.positions.at(-1) ?? 0, events } };
  });
}

/**
 * Appends to one or more streams atomically, with an outbox row per event, in the caller's
 * transaction (the append lock is then held until that transaction commits: keep it short).
 */
export async function appendToStreams(
  tx: DatabaseTransactionConnection,
  appends: StreamAppend[],
  context: AppendContext,
  registry: EventRegistry,
  topicOf: (category: string) => string,
): Promise<AppendResult> {
  const [outcome] = await appendCommands(tx, [{ appends, context }], registry, topicOf);
  if (outcome?.status === 'conflict') throw outcome.error;
  if (outcome?.status !== 'ok') throw new Error('append without an idempotency key cannot race on one');
  return outcome.result;
}

/** All events of one tenant keep their order; a platform aggregate's events keep theirs. */
export function messageKey(event: Pick<StoredEvent, 'tenantId' | 'streamId'>): string {
  return event.tenantId ?? event.streamId;
}

export async function streamVersion(db: Queryable, streamId: string): Promise<number> {
  return Number(
    await db.oneFirst(sql.unsafe`
    select coalesce((select stream_version from events where stream_id = ${streamId} order by stream_version desc limit 1), 0)`),
  );
}

export async function readStream(db: Queryable, streamId: string): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events where stream_id = ${streamId} order by stream_version`);
  return rows.map(toStoredEvent);
}

/** The events of several streams after a known version of each, in one round trip. */
export async function readStreamTails(db: Queryable, tails: readonly { streamId: string; after: number }[]): Promise<Map<string, StoredEvent[]>> {
  const byStream = new Map<string, StoredEvent[]>(tails.map((tail) => [tail.streamId, []]));
  if (tails.length === 0) return byStream;
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events e
    join unnest(${sql.array(
      tails.map((tail) => tail.streamId),
      'text',
    )}::text[], ${sql.array(
      tails.map((tail) => tail.after),
      'int4',
    )}::int4[]) as tail(tail_stream, tail_after)
      on e.stream_id = tail.tail_stream and e.stream_version > tail.tail_after
    order by e.stream_id, e.stream_version`);
  for (const row of rows) byStream.get(row.stream_id)?.push(toStoredEvent(row));
  return byStream;
}

const UnpublishedRow = rowSchema(Type.Object({ ...EventRow.properties, topic: Type.String(), message_key: Type.String() }));

/**
 * Outbox rows not yet published after position `after`, each with its event's envelope, in
 * position order (the relay's read).
 */
export async function readUnpublished(db: Queryable, limit: number, after = 0): Promise<{ topic: string; key: string; event: StoredEvent }[]> {
  const rows = await db.any(sql.type(UnpublishedRow)`
    select o.topic, o.message_key, ${EVENT_COLUMNS} from outbox o join events e using (global_position)
    where o.published_at is null and o.global_position > ${after} order by o.global_position limit ${limit}`);
  return rows.map((row) => ({ topic: row.topic, key: row.message_key, event: toEnvelope(row) }));
}

/** Events of one category (optionally one tenant) with from < position <= to, in position order. */
export async function readCategory(
  db: Queryable,
  category: string,
  range: { after: number; upTo: number; tenantId?: string; limit?: number },
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
  return Number(
    await db.oneFirst(sql.unsafe`
    select coalesce(max(global_position), 0) from events
    where category = ${category} and ${tenant} and global_position <= ${position}`),
  );
}

/** Every tenant-scoped event (all categories) with after < position <= upTo, in position order. */
export async function readTenantScoped(db: Queryable, range: { after: number; upTo: number; limit?: number }): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events
    where tenant_id is not null and global_position > ${range.after} and global_position <= ${range.upTo}
    order by global_position limit ${range.limit ?? 1000}`);
  return rows.map(toStoredEvent);
}

/** Every event (all categories) with after < position <= upTo, in position order. */
export async function readAllEvents(db: Queryable, range: { after: number; upTo: number; limit?: number }): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events
    where global_position > ${range.after} and global_position <= ${range.upTo}
    order by global_position limit ${range.limit ?? 1000}`);
  return rows.map(toStoredEvent);
}

/** Events of the given types (any category) with after < position <= upTo, in position order. */
export async function readEventsOfTypes(
  db: Queryable,
  types: readonly string[],
  range: { after: number; upTo: number; limit?: number },
): Promise<StoredEvent[]> {
  const rows = await db.any(sql.type(eventRow)`
    select ${EVENT_COLUMNS} from events
    where type = any(${sql.array([...types], 'text')}) and global_position > ${range.after} and global_position <= ${range.upTo}
    order by global_position limit ${range.limit ?? 1000}`);
  return rows.map(toStoredEvent);
}
