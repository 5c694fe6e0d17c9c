import { migrate, migrationStatus, type AppliedMigration } from './migrate.ts';
import type { Logger } from './logger.ts';

export type MigrationMode = 'apply' | 'dry-run' | 'status' | 'history';

export type DatabaseOutcome = {
  ok: boolean;
  result: 'migrated' | 'up to date' | 'would apply' | 'pending' | 'history' | 'failed';
  applied?: string[];
  pending?: string[];
  history?: AppliedMigration[];
  error?: string;
  ms: number;
};

/**
 * One database's part of `npm run migrate[:tenants]`, never throwing: the caller lists every
 * database's outcome, so one failure does not hide (or stop) the others.
 */
export async function migrateDatabase(
  mode: MigrationMode,
  connectionUri: string,
  directory: string,
  options: { lockWaitMs?: number | undefined; logger?: Logger | undefined } = {},
): Promise<DatabaseOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    if (mode === 'status' || mode === 'history') {
      const plan = await migrationStatus(connectionUri, directory);
      if (mode === 'history') return { ok: true, result: 'history', history: plan.applied, ms: ms() };
      const pending = plan.pending.map((f) => f.name);
      return { ok: true, result: pending.length ? 'pending' : 'up to date', applied: plan.applied.map((m) => m.name), pending, ms: ms() };
    }
    const names = await migrate(connectionUri, directory, { dryRun: mode === 'dry-run', lockWaitMs: options.lockWaitMs, logger: options.logger });
    if (names.length === 0) return { ok: true, result: 'up to date', ms: ms() };
    return mode === 'dry-run' ? { ok: true, result: 'would apply', pending: names, ms: ms() } : { ok: true, result: 'migrated', applied: names, ms: ms() };
  } catch (err) {
    return { ok: false, result: 'failed', error: (err as Error).message, ms: ms() };
  }
}

export function modeOf(flags: { 'dry-run'?: boolean | undefined; status?: boolean | undefined; history?: boolean | undefined }): MigrationMode {
  if (flags.history) return 'history';
  if (flags.status) return 'status';
  return flags['dry-run'] ? 'dry-run' : 'apply';
}
