/** A request waiting in a batcher, with how to answer it. */
export type Waiting<Q, A> = { request: Q; resolve: (answer: A) => void; reject: (err: unknown) => void };

/**
 * Requests that arrive while `inFlight` batches are on their way are sent together as the next
 * batch (at most `maxBatch`). Nothing waits for a batch to fill: an idle batcher sends at once.
 * `send` answers every request of its batch (resolve or reject), never throws.
 */
export function createBatcher<Q, A>(send: (batch: Waiting<Q, A>[]) => Promise<void>, options: { maxBatch: number; inFlight: number }) {
  const queue: Waiting<Q, A>[] = [];
  let inFlight = 0;
  function drain(): void {
    while (inFlight < options.inFlight && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      inFlight += 1;
      void send(batch).finally(() => {
        inFlight -= 1;
        drain();
      });
    }
  }
  return (request: Q): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      queue.push({ request, resolve, reject });
      drain();
    });
}
