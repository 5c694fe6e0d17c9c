import bcrypt from 'bcrypt';
import { httpError } from '../../platform/http.ts';

/** bcrypt reads at most 72 bytes: a longer password is refused rather than silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

export function checkPasswordPolicy(password: string): void {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > MAX_PASSWORD_BYTES) throw httpError(400, 'PASSWORD_TOO_LONG', `passwords are limited to ${MAX_PASSWORD_BYTES} bytes (UTF-8)`);
  if ([...password].length < 8) throw httpError(400, 'PASSWORD_TOO_SHORT', 'passwords need at least 8 characters');
}

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

// One dummy hash per cost, so that an unknown email costs what a known one does at any cost.
const dummyHashes = new Map<number, Promise<string>>();

/** Computes the dummy hash ahead of time, so that not even the first unknown-email login is slower. */
export function prepareDummyHash(cost: number): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) {
    hash = bcrypt.hash('not-a-real-password', cost);
    dummyHashes.set(cost, hash);
  }
  return hash;
}

/**
 * Compares against the stored hash, or against a dummy hash of the same cost when there is no
 * such user, so that a login takes the same time whether or not the email exists. A candidate
 * over 72 bytes never matches: bcrypt would compare only its first 72 bytes (silent truncation),
 * and no stored password is longer (checkPasswordPolicy); it is still hashed, for the timing.
 */
export async function verifyPassword(password: string, hash: string | null, cost: number): Promise<boolean> {
  const candidate = hash ?? await prepareDummyHash(cost);
  const tooLong = Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
  const matches = await bcrypt.compare(password.slice(0, 200), candidate);
  return matches && hash !== null && !tooLong;
}
