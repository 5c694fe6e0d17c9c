import { ValidationError } from '../shared/errors.ts';

const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/u;

/** The one spelling of an address used in events, stream ids and lookups. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  const normalised = normaliseEmail(email);
  const localPart = normalised.split('@')[0] ?? '';
  return normalised.length <= MAX_EMAIL_LENGTH && localPart.length <= MAX_LOCAL_PART_LENGTH && EMAIL_SHAPE.test(normalised);
}

/** Returns the normalised address, or throws ValidationError INVALID_EMAIL. */
export function requireValidEmail(email: string): string {
  if (!isValidEmail(email)) {
    throw new ValidationError('INVALID_EMAIL', 'email must look like name@example.com (at most 254 characters)');
  }
  return normaliseEmail(email);
}
