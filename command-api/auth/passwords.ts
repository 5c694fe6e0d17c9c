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

let dummyHash: Promise<string> | undefined;

/**
 * Compares against the stored hash, or against a dummy hash of the same cost when there is no
 * such user, so that a login takes the same time whether or not the email exists.
 */
export async function verifyPassword(password: string, hash: string | null, cost: number): Promise<boolean> {
  dummyHash ??= bcrypt.hash('not-a-real-password', cost);
  const candidate = hash ?? await dummyHash;
  const matches = await bcrypt.compare(password.slice(0, 200), candidate);
  return matches && hash !== null;
}
