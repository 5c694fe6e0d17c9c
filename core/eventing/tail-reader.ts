import type { DatabasePool } from '../adapters/db.ts';
import { readStreamTails, type StoredEvent } from './event-store.ts';

export type Tail = { streamId: string; after: number };

/**
 * Batched stream reads, the read-side twin of the appender's group commit: the stream tails that
 * concurrent commands ask for while a read is on its way go together as the next read, one query
 * for all of them. Nothing waits for a batch to fill (an idle process reads at once), and each
 * read is sent after every request in it arrived, so a command still sees everything committed
 * before it asked.
 */
export function createTailReader(pool: DatabasePool, options: { maxBatch?: number; inFlight?: number } = {}) {
  const maxBatch = options.maxBatch ?? 100;
  const maxInFlight = options.inFlight ?? 2;
  type Waiting = { tails: readonly Tail[]; resolve: (tails: Map<string, StoredEvent[]>) => void; reject: (err: unknown) => void };
  const queue: Waiting[] = [];
  let inFlight = 0;

  function drain(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight += 1;
      void send(batch).finally(() => {
        inFlight -= 1;
        drain();
      });
    }
  }

  async function send(batch: Waiting[]): Promise<void> {
    // One entry per stream, from the lowest version any request knows; each gets what it asked for.
    const from = new Map<string, number>();
    for (const w of batch) for (const t of w.tails) from.set(t.streamId, Math.min(from.get(t.streamId) ?? t.after, t.after));
    try {
      const events = await readStreamTails(
        pool,
        [...from].map(([streamId, after]) => ({ streamId, after })),
      );
      for (const w of batch) {
        w.resolve(new Map(w.tails.map((t) => [t.streamId, (events.get(t.streamId) ?? []).filter((e) => e.streamVersion > t.after)])));
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  return {
    read(tails: readonly Tail[]): Promise<Map<string, StoredEvent[]>> {
      if (tails.length === 0) return Promise.resolve(new Map());
      return new Promise((resolve, reject) => {
        queue.push({ tails, resolve, reject });
        drain();
      });
    },
  };
}

export type TailReader = ReturnType<typeof createTailReader>;
