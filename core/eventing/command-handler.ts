import {
  readStream,
  readStreamTails,
  WrongExpectedVersionError,
  type AppendContext,
  type AppendResult,
  type EventRegistry,
  type NewEvent,
  type StoredEvent,
  type StreamAppend,
} from './event-store.ts';
import type { DatabasePool, DatabaseTransactionConnection, Queryable } from '../adapters/db.ts';
import { createAggregateCache, type AggregateCache } from './aggregate-cache.ts';
import { createAppender, type Appender } from './appender.ts';
import { createTailReader, type TailReader } from './tail-reader.ts';
import { openEvents, sealAppends } from './personal-data.ts';
import { emailKeyFrom, type EmailKey } from './email-key.ts';

/** The decider shape of domain/shared/decider.ts, seen from outside the domain. */
export type DeciderOf<C, S> = {
  initialState: () => S;
  decide: (command: C, state: S) => NewEvent[];
  evolve: (state: S, event: never) => S;
};

/** A stream's folded state at a version, as a command sees it. */
export type Loaded<S> = { streamId: string; state: S; version: number };

/** A stream to read and fold, typed by its state. */
export type StreamRef<S> = { streamId: string; initialState: () => S; evolve: (state: S, event: never) => S };

/** One stream a command appends to; built by `decision()`, which tsc checks against the decider. */
export type Decision = {
  readonly ref: StreamRef<unknown>;
  readonly decide: (state: unknown) => NewEvent[];
  /** The version the client saw (If-Match): a stale one is a conflict, never retried. */
  readonly ifMatch?: number;
  /** Streams such as download-URL trails that accept appends whatever their version. */
  readonly anyVersion?: boolean;
};

export function streamRef<S>(decider: Pick<DeciderOf<never, S>, 'initialState' | 'evolve'>, streamId: string): StreamRef<S> {
  return { streamId, initialState: decider.initialState, evolve: decider.evolve };
}

/**
 * A decision on one stream: its command, or a function of the stream's current state that
 * returns the command. The decider's own types are checked here, then erased for the handler.
 */
export function decision<C, S>(
  decider: DeciderOf<C, S>,
  streamId: string,
  command: C | ((state: S) => C),
  options: { ifMatch?: number | undefined; anyVersion?: boolean } = {},
): Decision {
  const commandFor = (state: S): C => (typeof command === 'function' ? (command as (state: S) => C)(state) : command);
  return {
    ref: streamRef(decider, streamId) as StreamRef<unknown>,
    decide: (state) => decider.decide(commandFor(state as S), state as S),
    ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
    ...(options.anyVersion ? { anyVersion: true } : {}),
  };
}

/** What a command needs: the store, its per-process cache of folded streams, and the appender. */
export type EventStreams = {
  pool: DatabasePool;
  registry: EventRegistry;
  topicOf: (category: string) => string;
  cache: AggregateCache;
  appender: Appender;
  /** Stream reads of concurrent commands, batched into one query. */
  tails: TailReader;
  /** The keyed hash of an address (email claims, keys of invited addresses). */
  emailKey: EmailKey;
};

// Without a configured key (unit and backbone tests), the development derivation.
const developmentEmailKey = emailKeyFrom({ AUDIT_PSEUDONYM_KEY: 'ledgerline.development-only', JWT_SECRET: '' });

export function createEventStreams(
  pool: DatabasePool,
  registry: EventRegistry,
  topicOf: (category: string) => string,
  options: { cacheSize?: number; emailKey?: EmailKey } = {},
): EventStreams {
  return {
    pool,
    registry,
    topicOf,
    cache: createAggregateCache(options.cacheSize ?? 10_000),
    appender: createAppender(pool, registry, topicOf),
    tails: createTailReader(pool),
    emailKey: options.emailKey ?? developmentEmailKey,
  };
}

/**
 * Reads and folds streams in one round trip: the cached state of each at its version, plus
 * whatever was appended since (by this or another process). A command's cost does not grow with
 * its stream's length; the append's version check makes a stale cache harmless. With
 * `trustCache`, streams that are all cached are not read at all: the command's append checks
 * their versions instead (executeCommand).
 */
export async function loadStreams(
  store: EventStreams,
  refs: readonly StreamRef<unknown>[],
  db: Queryable = store.pool,
  options: { trustCache?: boolean } = {},
): Promise<Map<string, Loaded<unknown>>> {
  const cached = refs.map((ref) => store.cache.get(ref.streamId));
  if (options.trustCache && cached.every((c) => c !== undefined)) return new Map(cached.map((c) => [c!.streamId, c!]));
  const known = refs.map((ref, i) => cached[i] ?? { streamId: ref.streamId, state: ref.initialState(), version: 0 });
  const wanted = known.map((k) => ({ streamId: k.streamId, after: k.version }));
  // Outside a transaction, concurrent commands' reads share one query.
  const tails = db === store.pool ? await store.tails.read(wanted) : await readStreamTails(db, wanted);
  const opened = await openEvents(store.pool, [...tails.values()].flat());
  const loaded = new Map<string, Loaded<unknown>>();
  refs.forEach((ref, i) => {
    const tail = opened.filter((e) => e.streamId === ref.streamId);
    const current = fold(ref, known[i]!, tail);
    store.cache.set(current);
    loaded.set(ref.streamId, current);
  });
  return loaded;
}

export async function loadStream<S>(store: EventStreams, ref: StreamRef<S>): Promise<Loaded<S>> {
  return (await loadStreams(store, [ref as StreamRef<unknown>])).get(ref.streamId) as Loaded<S>;
}

function fold(ref: StreamRef<unknown>, from: Loaded<unknown>, events: readonly Pick<StoredEvent, 'type' | 'data' | 'streamVersion'>[]): Loaded<unknown> {
  if (events.length === 0) return from;
  const evolve = ref.evolve as (state: unknown, event: { type: string; data: unknown }) => unknown;
  const state = events.reduce((s, e) => evolve(s, { type: e.type, data: e.data }), from.state);
  return { streamId: from.streamId, state, version: events.at(-1)!.streamVersion };
}

/**
 * What a command decides: a list of decisions, or (to read other streams first, each once,
 * for access checks or a side effect that must precede the append) a plan that reads `reads`
 * and returns its decisions from their states. Decisions on streams it read reuse them.
 */
export type CommandPlan =
  | readonly Decision[]
  | { reads: readonly StreamRef<unknown>[]; decide: (loaded: ReadonlyMap<string, Loaded<unknown>>) => readonly Decision[] | Promise<readonly Decision[]> };

export type CommandResult<T> = AppendResult & { response: T };

export type CommandOptions<T> = {
  /** The answer, from the versions the streams will have once the append succeeds. */
  respond: (versions: Record<string, number>) => T;
  /** Records `respond`'s answer with the events (Idempotency-Key); a twin that won makes this throw. */
  idempotency?: { actor: string; key: string; hash: string; statusCode: (answer: T) => number; body: (answer: T) => Record<string, unknown> };
  /** Write-side rows that must commit with the events (credentials, sessions): runs before the append. */
  inTransaction?: (tx: DatabaseTransactionConnection) => Promise<void>;
  /** Conflicts decided again before giving up (a stream many commands race on wants more). */
  maxAttempts?: number;
};

export class IdempotencyRaceError extends Error {}

const MAX_ATTEMPTS = 5;

/**
 * The one command path: fold each stream once (from the process's cache, read only when not
 * cached), decide, and append every stream's new events atomically at the versions decided on,
 * with the versions of the streams only read checked in the same statement. A concurrent writer
 * makes the append fail; without If-Match we decide again on fresh state (bounded), with it the
 * client's view was stale and it gets the conflict. Appends without write-side rows go through
 * the process's appender, which batches concurrent commands into one statement and one commit.
 */
export async function executeCommand<T>(store: EventStreams, plan: CommandPlan, context: AppendContext, options: CommandOptions<T>): Promise<CommandResult<T>> {
  // The first attempt decides on the cached states without reading them; the append checks every
  // stream the decision rests on, including those only read (access: tenant, membership), so a
  // state another process changed meanwhile fails the append and the next attempt reads afresh.
  let trustCache = true;
  for (let attempt = 1; ; attempt++) {
    const decided = await decideOnce(store, plan, trustCache);
    if (decided === STALE) {
      trustCache = false;
      attempt -= 1; // not an attempt: the cache could not say whether the refusal holds
      continue;
    }
    const { versions, decisions } = decided;
    // Personal fields leave the process sealed: the log never holds them in the clear.
    const appends = await sealAppends(store.pool, decided.appends, context, store.emailKey);
    const response = options.respond(versions);
    const idempotency = options.idempotency && {
      actor: options.idempotency.actor,
      key: options.idempotency.key,
      hash: options.idempotency.hash,
      statusCode: options.idempotency.statusCode(response),
      body: options.idempotency.body(response),
    };
    if (appends.every((a) => a.events.length === 0) && !idempotency && !options.inTransaction) {
      if (!trustCache) return { versions, lastPosition: 0, events: [], response };
      // Nothing to append, decided on cached states: decide once more on states read afresh.
      trustCache = false;
      attempt -= 1;
      continue;
    }
    // The streams only read are appended nothing, at the version they were read at: a check.
    const checks = decided.readOnly.map((l) => ({ streamId: l.streamId, expectedVersion: l.version, events: [] }));
    const command = { appends: [...appends, ...checks], context, ...(idempotency ? { idempotency } : {}) };
    const outcome = options.inTransaction
      ? await store.pool
          .transaction(async (tx) => {
            await options.inTransaction!(tx);
            const [result] = await store.appender.appendIn(tx, [command]);
            if (result?.status === 'conflict') throw result.error;
            return result!;
          }, 0)
          .catch((err: unknown) => {
            if (err instanceof WrongExpectedVersionError) return { status: 'conflict' as const, error: err };
            throw err;
          })
      : await store.appender.append(command);
    if (outcome.status === 'ok') {
      rememberAppended(store, decisions, decided.appends, outcome.result.events);
      return { ...outcome.result, response };
    }
    if (outcome.status === 'idempotency_race') throw new IdempotencyRaceError('a concurrent request with this Idempotency-Key won');
    // The cache may be behind or (after a reset) ahead of the store: read these streams afresh.
    for (const d of decisions) store.cache.delete(d.ref.streamId);
    for (const l of decided.readOnly) store.cache.delete(l.streamId);
    trustCache = false;
    // A stream only read moved on: decide again. A decided stream with If-Match moved on: the
    // client's view was stale, which is its conflict to resolve.
    const conflicted = decisions.find((d) => d.ref.streamId === outcome.error.streamId);
    const retryable = conflicted === undefined || conflicted.ifMatch === undefined;
    if (!retryable || attempt >= (options.maxAttempts ?? MAX_ATTEMPTS)) throw outcome.error;
  }
}

/** The cache could not decide the command (a refusal, an If-Match beyond its version): read afresh. */
const STALE = Symbol('stale');

/**
 * Decides on cached states (`trustCache`) or on states read now. A refusal decided on cached
 * states is not given: it may rest on a state another process has changed since (a member just
 * added elsewhere), and nothing would correct it, so the caller decides again on fresh states.
 */
async function decideOnce(store: EventStreams, plan: CommandPlan, trustCache: boolean) {
  if (!trustCache) return decideOn(store, plan, false);
  try {
    return await decideOn(store, plan, true);
  } catch {
    return STALE;
  }
}

async function decideOn(store: EventStreams, plan: CommandPlan, trustCache: boolean) {
  let loaded = new Map<string, Loaded<unknown>>();
  let decisions: readonly Decision[];
  if ('reads' in plan) {
    loaded = await loadStreams(store, plan.reads, store.pool, { trustCache });
    decisions = await plan.decide(loaded);
  } else {
    decisions = plan as readonly Decision[];
  }
  // A stream appended to whatever its version (anyVersion) is not read: its state is not used.
  const missing = decisions.filter((d) => !loaded.has(d.ref.streamId) && !d.anyVersion).map((d) => d.ref);
  if (missing.length > 0) for (const [id, l] of await loadStreams(store, missing, store.pool, { trustCache })) loaded.set(id, l);
  for (const d of decisions) if (!loaded.has(d.ref.streamId)) loaded.set(d.ref.streamId, { streamId: d.ref.streamId, state: d.ref.initialState(), version: 0 });
  const versions: Record<string, number> = {};
  const appends: StreamAppend[] = [];
  for (const d of decisions) {
    const current = loaded.get(d.ref.streamId)!;
    // On cached states this refusal, like any other, becomes a fresh decision (decideOnce): a
    // cached version may be behind the one the client saw.
    if (d.ifMatch !== undefined && d.ifMatch !== current.version) throw new WrongExpectedVersionError(d.ref.streamId, d.ifMatch, current.version);
    const events = d.decide(current.state);
    versions[d.ref.streamId] = current.version + events.length;
    appends.push({ streamId: d.ref.streamId, expectedVersion: d.anyVersion ? ('any' as const) : current.version, events });
  }
  const decided = new Set(decisions.map((d) => d.ref.streamId));
  const readOnly = [...loaded.values()].filter((l) => !decided.has(l.streamId));
  return { appends, versions, decisions, loaded, readOnly };
}

/**
 * The states after our own append are known without reading: cache them at their new version,
 * folded from the events as decided (personal fields in the clear, as a read would open them).
 */
function rememberAppended(store: EventStreams, decisions: readonly Decision[], decided: readonly StreamAppend[], stored: readonly StoredEvent[]): void {
  for (const d of decisions) {
    if (d.anyVersion) continue;
    const plain = decided.find((a) => a.streamId === d.ref.streamId)?.events ?? [];
    const first = stored.find((e) => e.streamId === d.ref.streamId)?.streamVersion;
    const cached = store.cache.get(d.ref.streamId);
    if (plain.length === 0 || first === undefined || !cached || cached.version !== first - 1) {
      store.cache.delete(d.ref.streamId);
      continue;
    }
    store.cache.set(
      fold(
        d.ref,
        cached,
        plain.map((e, i) => ({ type: e.type, data: e.data, streamVersion: first + i })),
      ),
    );
  }
}

/** Folds a whole stream (for reads outside the hot path: scripts, projectors). */
export async function loadAggregate<S>(
  db: Queryable,
  streamId: string,
  decider: { initialState: () => S; evolve: (s: S, e: never) => S },
): Promise<{ state: S; version: number }> {
  const history = await openEvents(db, await readStream(db, streamId));
  const evolve = decider.evolve as (s: S, e: unknown) => S;
  return {
    state: history.reduce((s, e) => evolve(s, { type: e.type, data: e.data }), decider.initialState()),
    version: history.at(-1)?.streamVersion ?? 0,
  };
}
