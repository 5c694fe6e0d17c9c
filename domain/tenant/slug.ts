import { ValidationError } from '../shared/errors.ts';

const SLUG_SHAPE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const MIN_SLUG_LENGTH = 3;
const MAX_SLUG_LENGTH = 40;

/** Slugs that would be confusing or dangerous as a tenant's public name (URLs, mail, support). */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'api',
  'app',
  'assets',
  'auth',
  'billing',
  'cdn',
  'dashboard',
  'docs',
  'health',
  'help',
  'internal',
  'login',
  'logout',
  'mail',
  'metrics',
  'null',
  'postgres',
  'public',
  'ready',
  'register',
  'root',
  'security',
  'settings',
  'signup',
  'static',
  'status',
  'support',
  'system',
  'template0',
  'template1',
  'tenant',
  'tenants',
  'undefined',
  'www',
]);

export function isValidSlug(slug: string): boolean {
  return slug.length >= MIN_SLUG_LENGTH && slug.length <= MAX_SLUG_LENGTH && SLUG_SHAPE.test(slug) && !slug.includes('--') && !RESERVED_SLUGS.has(slug);
}

/** Slugs are not normalised: the caller gets an error rather than a silently different slug. */
export function requireValidSlug(slug: string): string {
  if (!isValidSlug(slug)) {
    throw new ValidationError(
      'INVALID_SLUG',
      'slug must be 3 to 40 lower-case letters, digits or single dashes, start and end with a letter or digit, and not be reserved',
    );
  }
  return slug;
}
