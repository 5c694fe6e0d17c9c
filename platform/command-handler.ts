import { appendToStreams, readStream, WrongExpectedVersionError, type AppendContext, type AppendResult, type EventRegistry, type NewEvent, type StreamAppend } from './event-store.ts';
import type { DatabasePool, DatabaseTransactionConnection } from './db.ts';

/** The decider shape of domain/shared/decider.ts, seen from outside the domain. */
export type AnyDecider = {
  initialState: () => unknown;
  decide: (command: never, state: never) => NewEvent[];
  evolve: (state: never, event: never) => unknown;
};

/** One stream a command decides on: its command may depend on the stream's current state. */
export type Decision = {
  streamId: string;
  decider: AnyDecider;
  command: unknown | ((state: unknown) => unknown);
  /** The version the client saw (If-Match): a stale one is a conflict, never retried. */
  ifMatch?: number;
  /** Streams such as audit trails that accept appends whatever their version. */
  anyVersion?: boolean;
};

export type CommandResult<T> = AppendResult & { response: T };

export type CommandStore = {
  pool: DatabasePool;
  registry: EventRegistry;
  topicOf: (category: string) => string;
};

const MAX_ATTEMPTS = 5;

/**
 * The one command path: read each stream, fold it with `evolve`, `decide`, and append every
 * stream's new events atomically with the version it was read at. A concurrent writer makes
 * the append fail; without If-Match we decide again on fresh state (bounded), with it the
 * client's view was stale and it gets the conflict. `finish` runs in the append's transaction
 * (extra write-side rows, the idempotent response) and its result is returned.
 */
export async function executeCommand<T>(
  store: CommandStore, decisions: Decision[], context: AppendContext,
  finish: (tx: DatabaseTransactionConnection, result: AppendResult) => Promise<T>,
): Promise<CommandResult<T>> {
  for (let attempt = 1; ; attempt++) {
    const appends: StreamAppend[] = [];
    for (const decision of decisions) {
      const history = await readStream(store.pool, decision.streamId);
      const version = history.at(-1)?.streamVersion ?? 0;
      if (decision.ifMatch !== undefined && decision.ifMatch !== version) {
        throw new WrongExpectedVersionError(decision.streamId, decision.ifMatch, version);
      }
      const decider = decision.decider as unknown as { initialState: () => unknown; decide: (c: unknown, s: unknown) => NewEvent[]; evolve: (s: unknown, e: unknown) => unknown };
      const state = history.reduce((s, e) => decider.evolve(s, { type: e.type, data: e.data }), decider.initialState());
      const command = typeof decision.command === 'function' ? (decision.command as (s: unknown) => unknown)(state) : decision.command;
      const events = decider.decide(command, state);
      appends.push({ streamId: decision.streamId, expectedVersion: decision.anyVersion ? 'any' as const : version, events });
    }
    try {
      return await store.pool.transaction(async (tx) => {
        const result = await appendToStreams(tx, appends, context, store.registry, store.topicOf);
        const response = await finish(tx, result);
        return { ...result, response };
      }, 0);
    } catch (err) {
      const retryable = err instanceof WrongExpectedVersionError && decisions.every((d) => d.ifMatch === undefined);
      if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Folds a stream into its current state and version (for reads on the write side). */
export async function loadAggregate<S>(pool: DatabasePool, streamId: string, decider: { initialState: () => S; evolve: (s: S, e: never) => S }): Promise<{ state: S; version: number }> {
  const history = await readStream(pool, streamId);
  const evolve = decider.evolve as (s: S, e: unknown) => S;
  return {
    state: history.reduce((s, e) => evolve(s, { type: e.type, data: e.data }), decider.initialState()),
    version: history.at(-1)?.streamVersion ?? 0,
  };
}
