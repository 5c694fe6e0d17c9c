import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from './logger.ts';

export const MAIN_MIGRATIONS = new URL('./migrations/', import.meta.url).pathname;
export const TENANT_MIGRATIONS = new URL('../tenant-schema/migrations/', import.meta.url).pathname;

/**
 * Applies numbered `NNN_name.sql` files that have not run yet, each in its own transaction,
 * under an advisory lock so that concurrent starters wait instead of racing. Migration files
 * are whole SQL scripts, so they go through pg's simple-query protocol rather than slonik's tag.
 * Returns the names applied now.
 */
export async function migrate(connectionUri: string, directory: string, logger?: Logger): Promise<string[]> {
  const files = (await readdir(directory)).filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f)).sort();
  const client = new pg.Client({ connectionString: connectionUri });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('ledgerline.migrations'))`);
    await client.query(`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
    const done = new Set((await client.query<{ name: string }>('select name from schema_migrations')).rows.map((r) => r.name));
    const pending = files.filter((f) => !done.has(f));
    for (const [index, file] of pending.entries()) {
      const text = await readFile(join(directory, file), 'utf8');
      await client.query('begin');
      try {
        await client.query(text);
        await client.query('insert into schema_migrations (name) values ($1)', [file]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      logger?.info({ migration: file, progress: `${index + 1}/${pending.length}` }, 'migration applied');
    }
    return pending;
  } finally {
    await client.end();
  }
}
