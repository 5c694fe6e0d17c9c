import { appendCommands, type AppendCommand, type AppendOutcome, type EventRegistry } from './event-store.ts';
import type { DatabasePool, DatabaseTransactionConnection } from '../adapters/db.ts';
import { createBatcher, type Waiting } from './batcher.ts';

/**
 * Group commit: commands that arrive while an append is on its way are sent together as the
 * next one, one statement and one commit for all of them (one fsync, one take of the append
 * lock). Nothing waits for a batch to fill: an idle process appends at once. Each command still
 * succeeds or fails alone (the append function checks and answers per command).
 */
export type Appender = {
  append: (command: AppendCommand) => Promise<AppendOutcome>;
  /** Appends inside a transaction the caller holds (write-side rows that commit with the events). */
  appendIn: (tx: DatabaseTransactionConnection, commands: AppendCommand[]) => Promise<AppendOutcome[]>;
};

export function createAppender(
  pool: DatabasePool,
  registry: EventRegistry,
  topicOf: (category: string) => string,
  options: { maxBatch?: number; inFlight?: number } = {},
): Appender {
  const maxBatch = options.maxBatch ?? 100;
  // One append at a time per process: a second one would only wait for the append lock inside
  // PostgreSQL, holding a connection; meanwhile its commands join the next, larger batch
  // (measured: 470 -> 490 commands/s, freshness p99 322 -> 280 ms, with two vs one in flight).
  const maxInFlight = options.inFlight ?? 1;

  async function send(batch: Waiting<AppendCommand, AppendOutcome>[]): Promise<void> {
    try {
      const outcomes = await appendCommands(
        pool,
        batch.map((w) => w.request),
        registry,
        topicOf,
      );
      batch.forEach((w, i) => w.resolve(outcomes[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One command's bad data must not fail the others it happened to be batched with.
      await Promise.all(batch.map((w) => send([w])));
    }
  }
  const append = createBatcher(send, { maxBatch, inFlight: maxInFlight });

  return {
    append,
    appendIn: (tx, commands) => appendCommands(tx, commands, registry, topicOf),
  };
}
