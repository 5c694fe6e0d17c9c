import type { DatabasePool } from '../adapters/db.ts';
import { readStreamTails, type StoredEvent } from './event-store.ts';
import { createBatcher, type Waiting } from './batcher.ts';

export type Tail = { streamId: string; after: number };

/**
 * Batched stream reads, the read-side twin of the appender's group commit: the stream tails that
 * concurrent commands ask for while a read is on its way go together as the next read, one query
 * for all of them. Nothing waits for a batch to fill (an idle process reads at once), and each
 * read is sent after every request in it arrived, so a command still sees everything committed
 * before it asked.
 */
export function createTailReader(pool: DatabasePool, options: { maxBatch?: number; inFlight?: number } = {}) {
  async function send(batch: Waiting<readonly Tail[], Map<string, StoredEvent[]>>[]): Promise<void> {
    // One entry per stream, from the lowest version any request knows; each gets what it asked for.
    const from = new Map<string, number>();
    for (const w of batch) for (const t of w.request) from.set(t.streamId, Math.min(from.get(t.streamId) ?? t.after, t.after));
    try {
      const events = await readStreamTails(
        pool,
        [...from].map(([streamId, after]) => ({ streamId, after })),
      );
      for (const w of batch) {
        w.resolve(new Map(w.request.map((t) => [t.streamId, (events.get(t.streamId) ?? []).filter((e) => e.streamVersion > t.after)])));
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
  const submit = createBatcher(send, { maxBatch: options.maxBatch ?? 100, inFlight: options.inFlight ?? 2 });

  return {
    read(tails: readonly Tail[]): Promise<Map<string, StoredEvent[]>> {
      return tails.length === 0 ? Promise.resolve(new Map()) : submit(tails);
    },
  };
}

export type TailReader = ReturnType<typeof createTailReader>;
