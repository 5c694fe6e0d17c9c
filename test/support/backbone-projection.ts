// A small read model for the projector tests: events counted per stream, plus a log keyed by
// global position whose insert fails (duplicate key) if an event were ever applied twice.
// Built only from core/ (applyFromCheckpoint + readCategory), independent of domain/.
import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readCategory, type StoredEvent } from '../../core/eventing/event-store.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import { applyFromCheckpoint, LATEST, type Projection } from '../../core/eventing/projector.ts';

/** 'main': one checkpoint for all events; 'tenant': one checkpoint per tenant. */
export type Scoping = 'main' | 'tenant';
export type ProbeState = { counts: { stream_id: string; events: number; last_version: number }[]; logged: number[] };

const CountRow = rowSchema(Type.Object({ stream_id: Type.String(), events: Type.Number(), last_version: Type.Number() }));
const tables = (name: string) => ({ counts: sql.identifier([`${name}_counts`]), log: sql.identifier([`${name}_log`]) });

export async function createProbeTables(pool: DatabasePool, name: string): Promise<void> {
  const { counts, log } = tables(name);
  await pool.query(sql.unsafe`create table if not exists ${counts} (stream_id text primary key, events int not null, last_version int not null)`);
  await pool.query(sql.unsafe`create table if not exists ${log} (global_position bigint primary key, stream_id text not null)`);
  // A stream listed here cannot be applied: the projection throws on its events (a poison event).
  await pool.query(sql.unsafe`create table if not exists probe_poison (stream_id text primary key)`);
}

async function applyProbe(tx: DatabaseTransactionConnection, name: string, event: StoredEvent): Promise<void> {
  const { counts, log } = tables(name);
  if (await tx.exists(sql.unsafe`select 1 from probe_poison where stream_id = ${event.streamId}`)) {
    throw new Error(`cannot apply ${event.type} of ${event.streamId}`);
  }
  await tx.query(sql.unsafe`insert into ${log} (global_position, stream_id) values (${event.globalPosition}, ${event.streamId})`);
  const previous = await tx.maybeOneFirst(sql.unsafe`select last_version from ${counts} where stream_id = ${event.streamId}`);
  if (Number(previous ?? 0) !== event.streamVersion - 1) {
    throw new Error(`${event.streamId}: version ${event.streamVersion} applied after ${String(previous)}`);
  }
  await tx.query(sql.unsafe`
    insert into ${counts} (stream_id, events, last_version) values (${event.streamId}, 1, ${event.streamVersion})
    on conflict (stream_id) do update set events = ${counts}.events + 1, last_version = excluded.last_version`);
}

function catchUpProbe(pool: DatabasePool, name: string, key: string, upTo: number, tenantId?: string): Promise<number> {
  return applyFromCheckpoint({
    db: pool,
    key,
    upTo,
    batchSize: 20,
    // Through the transaction's own connection: the events live in the same database (see applyFromCheckpoint).
    load: (after, until, limit, tx) => readCategory(tx, 'documents', { after, upTo: until, limit, ...(tenantId === undefined ? {} : { tenantId }) }),
    apply: (tx, event) => applyProbe(tx, name, event),
  });
}

/** The test projection of the `documents` topic into `<name>_counts` and `<name>_log`. */
export function probeProjection(options: { pool: DatabasePool; topics: Topics; name: string; scoping: Scoping }): Projection {
  const { pool, name, scoping } = options;
  return {
    name: `probe-${name}`,
    topics: [options.topics.documents],
    scopeOf: (event) => (scoping === 'main' ? 'main' : event.tenantId),
    async catchUp(scope, upTo) {
      await catchUpProbe(pool, name, `${name}:${scope}`, upTo, scoping === 'main' ? undefined : scope);
      return 'done';
    },
    // Set-aside scopes are only remembered in memory: after a restart, every tenant is looked at
    // again. ('main' has none, so that a crash test's first catch-up happens in a Kafka batch.)
    ...(scoping === 'tenant'
      ? {
          scopesToSweep: async () =>
            (
              await pool.anyFirst(sql.unsafe`
        select distinct tenant_id from events where category = 'documents' and tenant_id is not null`)
            ).map(String),
        }
      : {}),
  };
}

export async function readProbe(pool: DatabasePool, name: string): Promise<ProbeState> {
  const { counts, log } = tables(name);
  const rows = await pool.any(sql.type(CountRow)`select stream_id, events, last_version from ${counts} order by stream_id`);
  const logged = await pool.anyFirst(sql.unsafe`select global_position from ${log} order by global_position`);
  return {
    counts: rows.map((r) => ({ stream_id: String(r.stream_id), events: Number(r.events), last_version: Number(r.last_version) })),
    logged: logged.map(Number),
  };
}

/** A fresh replay of every documents event in the store into empty tables: what the live model must equal. */
export async function replayProbe(pool: DatabasePool, name: string): Promise<ProbeState> {
  const replay = `${name}_replay`;
  const { counts, log } = tables(replay);
  await pool.query(sql.unsafe`drop table if exists ${counts}, ${log}`);
  await pool.query(sql.unsafe`delete from projection_checkpoints where projection = ${`${replay}:all`}`);
  await createProbeTables(pool, replay);
  await catchUpProbe(pool, replay, `${replay}:all`, LATEST);
  return readProbe(pool, replay);
}

/** Global positions of every documents event in the store. */
export async function storedPositions(pool: DatabasePool): Promise<number[]> {
  return (await pool.anyFirst(sql.unsafe`select global_position from events where category = 'documents' order by 1`)).map(Number);
}
