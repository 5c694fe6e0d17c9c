import { sql, type DatabasePool, type DatabaseTransactionConnection } from '../adapters/db.ts';
import type { StoredEvent } from './event-store.ts';
import type { EventLog, EventLogBatch, Subscription } from '../adapters/kafka.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Metrics } from '../adapters/metrics.ts';
import { failpoint } from '../adapters/failpoints.ts';
import { setAsideBoard, trackLag } from './projector-board.ts';
import { scopeLag } from './projection-lag.ts';

/**
 * A projection keeps one checkpoint per scope ('main', or a tenant id). Kafka orders and
 * partitions the work and says how far a scope must get; the scope then applies its events from
 * its own checkpoint in position order, read-model change and checkpoint in one transaction.
 * A scope that cannot go on (database not provisioned, an event it fails on) is set aside and
 * retried by a sweep, without holding back the other scopes of its partition.
 */
export type Projection = {
  name: string;
  topics: string[];
  scopeOf: (event: StoredEvent) => string | null;
  /** `heartbeat`, when given, is called between transactions: a long catch-up keeps its partitions. */
  catchUp: (scope: string, upTo: number, heartbeat?: () => Promise<void>) => Promise<'done' | 'paused'>;
  /** Scopes that may be behind when the process starts (e.g. every active tenant). */
  scopesToSweep?: () => Promise<string[]>;
  /** Each scope's checkpoint (global position applied up to), for /status. */
  positions?: () => Promise<Record<string, number>>;
  /** Scopes behind the event store: how many events and how old the oldest unapplied one is (/metrics). */
  lag?: () => Promise<Record<string, ScopeLag>>;
  /** Background work that needs no freshness: the broker gathers up to this long per batch. */
  gatherMs?: number;
};

export type ScopeLag = { events: number; seconds: number };

export type ScopeState = { state: 'paused' | 'failed'; since: string; error?: string; failures?: number; retryAt?: string };

/** Back-off of a failed scope's retries: 250 ms, doubling, at most 5 s. */
const retryDelayMs = (failures: number) => Math.min(250 * 2 ** (failures - 1), 5000);
export type Projector = { name: string; stop: () => Promise<void>; status: () => Record<string, ScopeState>; sweep: () => Promise<void> };

export const LATEST = Number.MAX_SAFE_INTEGER;

/**
 * How long the broker may gather events for a projection whose effects need no freshness
 * (the audit trail, webhook deliveries, mail, the file janitor): a quarter second more before they
 * act, for fewer, larger transactions under load.
 */
export const BACKGROUND_GATHER_MS = 250;

export async function startProjector(options: {
  eventLog: EventLog;
  projection: Projection;
  groupId: string;
  logger: Logger;
  metrics: Metrics;
  sweepIntervalMs?: number;
  onFatal: (error: Error) => void;
  /** The main database: set-aside scopes are recorded there and retry requests read from it (`npm run projections`). */
  registry?: DatabasePool;
  lagIntervalMs?: number;
}): Promise<Projector> {
  const { projection, logger, metrics } = options;
  const board = options.registry ? setAsideBoard(options.registry, projection.name, logger) : undefined;
  const setAside = new Map<string, ScopeState>();
  const queues = new Map<string, Promise<void>>();
  const applied = metrics.counter('projector_batches_total', 'Kafka batches handled');
  const scopeFailures = metrics.counter('projector_scope_failures_total', 'Catch-ups that failed');
  const setAsideGauge = metrics.gauge('projector_scopes_set_aside', 'Scopes paused or failed');

  // One catch-up at a time per scope: the batch handler and the sweep may both ask.
  function runScope(scope: string, upTo: number, heartbeat?: () => Promise<void>): Promise<void> {
    const previous = queues.get(scope) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        const outcome = await projection.catchUp(scope, upTo, heartbeat);
        if (outcome === 'paused') {
          if (!setAside.has(scope)) {
            const state: ScopeState = { state: 'paused', since: new Date().toISOString() };
            setAside.set(scope, state);
            await board?.record(scope, state);
          }
        } else {
          setAside.delete(scope);
          await board?.clear(scope);
        }
      } catch (err) {
        scopeFailures.inc(1, { projection: projection.name });
        const previous = setAside.get(scope);
        const failures = (previous?.failures ?? 0) + 1;
        const retryAt = new Date(Date.now() + retryDelayMs(failures)).toISOString();
        logger.error({ err, scope, projection: projection.name, failures, retryAt }, 'scope failed; set aside for retry');
        const state: ScopeState = { state: 'failed', since: previous?.since ?? new Date().toISOString(), error: (err as Error).message, failures, retryAt };
        setAside.set(scope, state);
        await board?.record(scope, state);
      } finally {
        setAsideGauge.set(setAside.size, { projection: projection.name });
      }
    });
    queues.set(scope, next);
    void next.finally(() => {
      if (queues.get(scope) === next) queues.delete(scope);
    });
    return next;
  }

  async function onBatch(batch: EventLogBatch): Promise<void> {
    const upTo = new Map<string, number>();
    for (const message of batch.messages) {
      if (message.value === null) continue;
      const event = JSON.parse(message.value) as StoredEvent;
      const scope = projection.scopeOf(event);
      if (scope !== null) upTo.set(scope, Math.max(upTo.get(scope) ?? 0, event.globalPosition));
    }
    for (const [scope, position] of upTo) {
      // After a rebalance the partition's new owner redoes this batch; checkpoints make it harmless.
      if (!batch.isRunning() || batch.isStale()) return;
      // A failed scope is the sweep's, with back-off: retrying it here would hold up the partition.
      if (setAside.get(scope)?.state === 'failed') continue;
      await runScope(scope, position, batch.heartbeat);
      await batch.heartbeat();
    }
    failpoint('projector-after-commit');
    const last = batch.messages.at(-1);
    if (last) batch.resolveOffset(last.offset);
    applied.inc(1, { projection: projection.name });
  }

  async function sweep(): Promise<void> {
    // An operator's `npm run projections -- retry <scope>`: now, with the back-off forgotten.
    for (const scope of (await board?.takeRetryRequests()) ?? []) {
      const state = setAside.get(scope);
      if (state) setAside.set(scope, { ...state, failures: 0, retryAt: new Date(0).toISOString() });
      else void runScope(scope, LATEST);
    }
    const now = new Date().toISOString();
    const due = [...setAside].filter(([scope, state]) => !queues.has(scope) && (state.retryAt === undefined || state.retryAt <= now));
    await Promise.all(due.map(([scope]) => runScope(scope, LATEST)));
  }

  // Subscribe first, then catch up whatever may be behind: a scope slow to catch up (a tenant
  // whose provisioning keeps failing) must not hold back the events of the others meanwhile.
  const subscription: Subscription = await options.eventLog.subscribe({
    groupId: options.groupId,
    topics: projection.topics,
    onBatch,
    onCrash: options.onFatal,
    ...(projection.gatherMs ? { gatherMs: projection.gatherMs } : {}),
  });
  const initial = new Set([...((await projection.scopesToSweep?.()) ?? []), ...((await board?.recorded()) ?? [])]);
  await Promise.all([...initial].map((scope) => runScope(scope, LATEST)));
  const timer = setInterval(() => {
    void sweep().catch((err: unknown) => logger.warn({ err }, 'sweep failed'));
  }, options.sweepIntervalMs ?? 1000);
  const lagTimer = projection.lag ? trackLag(projection, metrics, logger, options.lagIntervalMs ?? 5000) : undefined;
  return {
    name: projection.name,
    status: () => Object.fromEntries(setAside),
    sweep,
    async stop() {
      clearInterval(timer);
      if (lagTimer) clearInterval(lagTimer);
      await subscription.stop();
      await Promise.allSettled(queues.values());
    },
  };
}

/**
 * How a projection applies what it loaded: one event at a time, or (when a batch can be applied
 * in fewer statements than its events) the whole batch, in position order, in one call.
 */
export type Apply =
  | { apply: (tx: DatabaseTransactionConnection, event: StoredEvent) => Promise<void> }
  | { applyBatch: (tx: DatabaseTransactionConnection, events: StoredEvent[]) => Promise<void> };

/**
 * A projection with one scope, named like it, in the main database: every event of `topics` it
 * `accepts` (all when not said) is applied in global order under one checkpoint, in batches of
 * `batchSize`, read-model change and checkpoint in one transaction. `lagOf`, when given, names
 * the events of the store it is made of, for its lag metric.
 */
export function singleScopeProjection(
  options: {
    name: string;
    pool: DatabasePool;
    topics: string[];
    accepts?: (event: StoredEvent) => boolean;
    lagOf?: ReturnType<typeof sql.fragment>;
    batchSize?: number;
    gatherMs?: number;
    load: (after: number, upTo: number, limit: number, tx: DatabaseTransactionConnection) => Promise<StoredEvent[]>;
  } & Apply,
): Projection {
  const { name: scope, pool, accepts, lagOf } = options;
  return {
    name: scope,
    topics: [...new Set(options.topics)],
    scopeOf: accepts ? (event) => (accepts(event) ? scope : null) : () => scope,
    scopesToSweep: async () => [scope],
    positions: async () => ({ [scope]: await checkpointOf(pool, scope) }),
    ...(lagOf ? { lag: async () => scopeLag(pool, scope, await checkpointOf(pool, scope), lagOf) } : {}),
    ...(options.gatherMs ? { gatherMs: options.gatherMs } : {}),
    async catchUp(_scope, upTo, heartbeat) {
      await applyFromCheckpoint({
        db: pool,
        key: scope,
        upTo,
        heartbeat,
        load: options.load,
        ...('applyBatch' in options ? { applyBatch: options.applyBatch } : { apply: options.apply }),
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      });
      return 'done';
    },
  };
}

/**
 * Applies `load`ed events after the checkpoint `key` of `db`, up to `upTo`, in transactions of
 * up to `batchSize` events each holding the read-model changes and the new checkpoint.
 * The checkpoint row is locked for the transaction, so two instances never apply the same events.
 * When the events live in `db` itself, `load` should read through `tx`: a read through the pool
 * needs a second connection while the transaction holds one, and as many scopes catching up at
 * once as the pool has connections then wait on each other forever.
 */
export async function applyFromCheckpoint(
  options: {
    db: DatabasePool;
    key: string;
    upTo: number;
    batchSize?: number;
    load: (after: number, upTo: number, limit: number, tx: DatabaseTransactionConnection) => Promise<StoredEvent[]>;
    heartbeat?: (() => Promise<void>) | undefined;
  } & Apply,
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let total = 0;
  for (;;) {
    const count = await options.db.transaction(async (tx) => {
      const position = await lockCheckpoint(tx, options.key);
      if (position >= options.upTo) return 0;
      const events = await options.load(position, options.upTo, batchSize, tx);
      if ('applyBatch' in options) {
        if (events.length > 0) await options.applyBatch(tx, events);
      } else {
        for (const event of events) await options.apply(tx, event);
      }
      const last = events.at(-1);
      if (last) await moveCheckpoint(tx, options.key, last.globalPosition);
      failpoint('projector-before-commit');
      return events.length;
    });
    total += count;
    if (count < batchSize) return total;
    await options.heartbeat?.();
  }
}

/**
 * The checkpoint `key`'s position, its row created if missing and locked until the transaction
 * ends: whoever holds it is the only writer of the read model behind it (the one upsert-and-lock
 * of every projection, rebuild and move).
 */
export async function lockCheckpoint(tx: DatabaseTransactionConnection, key: string): Promise<number> {
  await tx.query(sql.unsafe`insert into projection_checkpoints (projection) values (${key}) on conflict do nothing`);
  return Number(await tx.oneFirst(sql.unsafe`select position from projection_checkpoints where projection = ${key} for update`));
}

export async function moveCheckpoint(tx: DatabaseTransactionConnection, key: string, position: number): Promise<void> {
  await tx.query(sql.unsafe`update projection_checkpoints set position = ${position}, updated_at = now() where projection = ${key}`);
}

export async function checkpointOf(db: DatabasePool, key: string): Promise<number> {
  const value = await db.maybeOneFirst(sql.unsafe`select position from projection_checkpoints where projection = ${key}`);
  return value === null ? 0 : Number(value);
}
