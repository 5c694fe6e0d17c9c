import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from './logger.ts';
import { withClient } from './db.ts';

export const MAIN_MIGRATIONS = new URL('../migrations/', import.meta.url).pathname;
/** The repository's tenant schema (what a tenant gets unless TENANT_MIGRATIONS_DIR says otherwise). */
export const TENANT_MIGRATIONS = new URL('../../tenant-schema/migrations/', import.meta.url).pathname;

/** The tenant schema's directory: TENANT_MIGRATIONS_DIR when set (tests, a staged release), else the repository's. */
export function tenantMigrations(configured = ''): string {
  return configured || TENANT_MIGRATIONS;
}

export type MigrationFile = { name: string; checksum: string; text: string };
export type AppliedMigration = { name: string; checksum: string; appliedAt: string };
export type MigrationPlan = { applied: AppliedMigration[]; pending: MigrationFile[] };
export type MigrateOptions = { dryRun?: boolean | undefined; lockWaitMs?: number | undefined; logger?: Logger | undefined };

/** An applied file whose text changed since: forward-only means it is never re-run nor silently accepted. */
export class ChangedMigrationError extends Error {
  readonly files: { name: string; recorded: string; current: string }[];
  constructor(files: { name: string; recorded: string; current: string }[]) {
    super(
      `applied migration${files.length > 1 ? 's' : ''} changed since applied (write a new numbered file instead): ${files
        .map((f) => `${f.name} recorded sha256 ${f.recorded.slice(0, 12)}, now ${f.current.slice(0, 12)}`)
        .join('; ')}`,
    );
    this.name = 'ChangedMigrationError';
    this.files = files;
  }
}

export class MigrationLockedError extends Error {
  constructor(waitedMs: number) {
    super(`another runner holds this database's migration lock (waited ${waitedMs} ms)`);
    this.name = 'MigrationLockedError';
  }
}

export async function readMigrations(directory: string): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(directory, name), 'utf8');
      return { name, text, checksum: createHash('sha256').update(text).digest('hex') };
    }),
  );
}

const LOCK = `hashtext('ledgerline.migrations')`;

/**
 * Advisory locks are per database, so this serialises runners of one database (a tenant's, or
 * the main one) and nothing else. Waits up to `waitMs` (polling, so a stuck runner is reported
 * rather than waited on forever).
 */
async function acquireLock(client: pg.Client, waitMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LOCK}) as ok`);
    if (rows[0]?.ok) return;
    if (Date.now() - started >= waitMs) throw new MigrationLockedError(Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ensureLedger(client: pg.Client): Promise<void> {
  await client.query(`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
  // Databases migrated before checksums were recorded get theirs on the next run (trusted then).
  await client.query(`alter table schema_migrations add column if not exists checksum text`);
}

/** What is applied (with recorded checksums) and what is pending; throws if an applied file changed. */
async function plan(client: pg.Client, files: MigrationFile[]): Promise<MigrationPlan> {
  const { rows } = await client.query<{ name: string; checksum: string | null; applied_at: string }>(
    `select name, checksum, to_json(applied_at)#>>'{}' as applied_at from schema_migrations order by name`,
  );
  const byName = new Map(files.map((f) => [f.name, f]));
  const changed: { name: string; recorded: string; current: string }[] = [];
  for (const row of rows) {
    const file = byName.get(row.name);
    if (!file) continue; // a file removed from the directory stays recorded: nothing runs it again
    if (row.checksum === null) {
      await client.query('update schema_migrations set checksum = $1 where name = $2', [file.checksum, row.name]);
      row.checksum = file.checksum;
    } else if (row.checksum !== file.checksum) {
      changed.push({ name: row.name, recorded: row.checksum, current: file.checksum });
    }
  }
  if (changed.length > 0) throw new ChangedMigrationError(changed);
  const done = new Set(rows.map((r) => r.name));
  return {
    applied: rows.map((r) => ({ name: r.name, checksum: r.checksum ?? '', appliedAt: r.applied_at })),
    pending: files.filter((f) => !done.has(f.name)),
  };
}

/**
 * Applies the numbered `NNN_name.sql` files of `directory` that have not run yet, each in its own
 * transaction with its checksum recorded, under the database's migration lock. An applied file
 * that changed is refused (ChangedMigrationError) before anything runs. A dry run executes each
 * pending file in a transaction that is rolled back: it proves the files apply to this database's
 * data without keeping anything. Files are whole SQL scripts, so they go through pg's
 * simple-query protocol rather than slonik's tag. Returns the names applied (or that would be).
 * Provisioning a new tenant and `npm run migrate[:tenants]` both come through here.
 */
export async function migrate(connectionUri: string, directory: string, options: MigrateOptions | Logger = {}): Promise<string[]> {
  const { dryRun = false, lockWaitMs = 60_000, logger } = 'info' in options ? ({ logger: options } as MigrateOptions) : options;
  const files = await readMigrations(directory);
  return withClient(connectionUri, async (client) => {
    await acquireLock(client, lockWaitMs);
    try {
      await ensureLedger(client);
      const { pending } = await plan(client, files);
      for (const [index, file] of pending.entries()) {
        await client.query('begin');
        try {
          await client.query(file.text);
          await client.query('insert into schema_migrations (name, checksum) values ($1, $2)', [file.name, file.checksum]);
          await client.query(dryRun ? 'rollback' : 'commit');
        } catch (err) {
          await client.query('rollback');
          throw new Error(`migration ${file.name} failed: ${(err as Error).message}`);
        }
        logger?.info({ migration: file.name, progress: `${index + 1}/${pending.length}`, dryRun }, dryRun ? 'migration would apply' : 'migration applied');
      }
      return pending.map((f) => f.name);
    } finally {
      await client.query(`select pg_advisory_unlock(${LOCK})`).catch(() => {});
    }
  });
}

/** Applied and pending files of one database, without changing anything but missing checksums. */
export async function migrationStatus(connectionUri: string, directory: string): Promise<MigrationPlan> {
  const files = await readMigrations(directory);
  return withClient(connectionUri, async (client) => {
    await ensureLedger(client);
    return plan(client, files);
  });
}
