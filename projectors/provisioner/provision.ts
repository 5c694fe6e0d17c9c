import { assertSafeDatabaseName, withClient, withDatabase } from '../../core/adapters/db.ts';
import { migrate, tenantMigrations } from '../../core/adapters/migrate.ts';
import { failpoint } from '../../core/adapters/failpoints.ts';
import type { Logger } from '../../core/adapters/logger.ts';

// CREATE/DROP DATABASE cannot take bind parameters: the name is validated against our own
// pattern and then double-quoted, never interpolated raw.
const quoted = (name: string) => `"${assertSafeDatabaseName(name)}"`;

/**
 * Creates the tenant database if it is missing and brings its schema up to date. Every step is
 * safe to repeat, so a provisioner killed half-way finishes the job when the event comes again.
 * `serverUri`: any database on the tenant's server (its TENANT_SERVERS URL).
 */
export async function provisionTenantDatabase(serverUri: string, databaseName: string, logger: Logger, migrations = tenantMigrations()): Promise<void> {
  await withClient(serverUri, async (client) => {
    const exists = await client.query('select 1 from pg_database where datname = $1', [databaseName]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`create database ${quoted(databaseName)}`);
        logger.info({ databaseName }, 'tenant database created');
      } catch (err) {
        // Created concurrently: fine. A race with another CREATE DATABASE of the same name may also
        // surface as a unique violation on the pg_database catalog (23505) rather than 42P04.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  });
  failpoint('provisioner-after-create-database');
  await migrate(withDatabase(serverUri, databaseName), migrations, { logger });
}

export async function dropTenantDatabase(serverUri: string, databaseName: string, logger: Logger): Promise<void> {
  await withClient(serverUri, async (client) => {
    await client.query(`drop database if exists ${quoted(databaseName)} with (force)`);
  });
  logger.info({ databaseName }, 'tenant database dropped');
}
