import { retryLaterError } from './http.ts';

/**
 * At most `size` holders at once, at most `maxWaiting` queued behind them (FIFO); beyond that
 * `acquire` refuses at once with 503 SERVER_BUSY, so a flood queues no unbounded work.
 */
export function createSemaphore(size: number, maxWaiting: number) {
  let held = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held--;
  };
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (held < size) {
        held++;
      } else {
        if (waiting.length >= maxWaiting) throw retryLaterError(503, 'SERVER_BUSY', 'the server is busy; retry shortly', 1);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
    state: () => ({ held, waiting: waiting.length }),
  };
}

export type Semaphore = ReturnType<typeof createSemaphore>;
