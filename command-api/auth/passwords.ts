import { availableParallelism } from 'node:os';
import bcrypt from 'bcrypt';
import { httpError } from '../../core/adapters/http.ts';
import { createSemaphore } from '../../core/adapters/semaphore.ts';

/** bcrypt reads at most 72 bytes: a longer password is refused rather than silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

export function checkPasswordPolicy(password: string): void {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > MAX_PASSWORD_BYTES) throw httpError(400, 'PASSWORD_TOO_LONG', `passwords are limited to ${MAX_PASSWORD_BYTES} bytes (UTF-8)`);
  if ([...password].length < 8) throw httpError(400, 'PASSWORD_TOO_SHORT', 'passwords need at least 8 characters');
}

/**
 * How many bcrypt computations may run at once: bcrypt runs on libuv's thread pool (4 threads
 * unless UV_THREADPOOL_SIZE says otherwise), which file and DNS work share, and each one keeps a
 * core busy for its whole duration. Two threads of headroom in the pool, and one core left to
 * the event loop, keep the other routes' latency during a login flood.
 */
export function defaultBcryptConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(pool - 2, availableParallelism() - 1));
}

/** Hashing and checking passwords, with the number of concurrent bcrypt computations bounded. */
export function createPasswords(options: { cost: number; concurrency: number }) {
  const { cost } = options;
  const concurrency = options.concurrency > 0 ? options.concurrency : defaultBcryptConcurrency();
  // A queue of 50 per slot is a few seconds of work at cost 12: beyond it a caller gets 503 at once.
  const gate = createSemaphore(concurrency, concurrency * 50);
  // Computed ahead of time, so that not even the first unknown-email login is faster than a known one.
  const dummyHash = bcrypt.hash('not-a-real-password', cost);

  return {
    concurrency,
    ready: () => dummyHash,
    hash: (password: string): Promise<string> => gate.run(() => bcrypt.hash(password, cost)),

    /**
     * Compares against the stored hash, or against a dummy hash of the same cost when there is no
     * such user, so that a login takes the same time whether or not the email exists. A candidate
     * over 72 bytes never matches: bcrypt would compare only its first 72 bytes (silent
     * truncation), and no stored password is longer (checkPasswordPolicy); it is still hashed,
     * for the timing.
     */
    async verify(password: string, hash: string | null): Promise<boolean> {
      const candidate = hash ?? (await dummyHash);
      const tooLong = Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
      const matches = await gate.run(() => bcrypt.compare(password.slice(0, 200), candidate));
      return matches && hash !== null && !tooLong;
    },
  };
}

export type Passwords = ReturnType<typeof createPasswords>;
