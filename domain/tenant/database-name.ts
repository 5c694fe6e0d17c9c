import { ValidationError } from '../shared/errors.ts';

/** PostgreSQL's identifier limit is 63 bytes; lower-case only so the name never needs case folding. */
const DATABASE_NAME_SHAPE = /^[a-z][a-z0-9_]{0,62}$/;
const SHORT_ID_SHAPE = /^[0-9a-f]{8}$/;

export function isValidDatabaseName(name: string): boolean {
  return DATABASE_NAME_SHAPE.test(name);
}

/**
 * `tenant_{slug, dashes as underscores}_{first 8 hex digits of the tenant id}`. The short id keeps
 * names unique when a deleted tenant's slug is used again; the provisioner still quotes the name.
 */
export function tenantDatabaseName(slug: string, tenantId: string): string {
  const shortId = tenantId.replaceAll('-', '').slice(0, 8).toLowerCase();
  if (!SHORT_ID_SHAPE.test(shortId)) {
    throw new ValidationError('INVALID_TENANT_ID', 'tenantId must start with 8 hex digits');
  }
  const name = `tenant_${slug.replaceAll('-', '_')}_${shortId}`;
  if (!isValidDatabaseName(name)) {
    throw new ValidationError('INVALID_DATABASE_NAME', `"${name}" is not a safe database name`);
  }
  return name;
}
