import { randomUUID } from 'node:crypto';
import { sql, type DatabasePool } from '../adapters/db.ts';
import type { Logger } from '../adapters/logger.ts';
import type { JobOutcome } from './rebuild-runner.ts';

export type RebuildRun = { runId: string; resumed: boolean; done: Set<string> };

/**
 * An --all-tenants run, recorded in the main database: the latest unfinished run of the same
 * kind (dry or not) is resumed, skipping the tenants it already finished; `fresh` starts over.
 */
export async function startRun(pool: DatabasePool, options: { dryRun: boolean; fresh: boolean; logger: Logger }): Promise<RebuildRun> {
  return pool.transaction(async (tx) => {
    // Two runners must not resume the same run at once: the second waits here until the first has started.
    await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext('ledgerline.rebuild-runs'))`);
    const open = options.fresh
      ? null
      : await tx.maybeOneFirst(sql.unsafe`
      select run_id from rebuild_runs where finished_at is null and dry_run = ${options.dryRun} order by started_at desc limit 1`);
    if (options.fresh) await tx.query(sql.unsafe`update rebuild_runs set finished_at = now() where finished_at is null and dry_run = ${options.dryRun}`);
    if (open !== null) {
      const done = (await tx.anyFirst(sql.unsafe`select tenant_id from rebuild_run_tenants where run_id = ${String(open)} and status = 'done'`)).map(String);
      return { runId: String(open), resumed: true, done: new Set(done) };
    }
    const runId = randomUUID();
    await tx.query(sql.unsafe`insert into rebuild_runs (run_id, dry_run) values (${runId}, ${options.dryRun})`);
    return { runId, resumed: false, done: new Set<string>() };
  });
}

export async function recordTenant(pool: DatabasePool, runId: string, outcome: JobOutcome): Promise<void> {
  const { result, error } = outcome;
  await pool.query(sql.unsafe`
    insert into rebuild_run_tenants (run_id, tenant_id, status, applied, position, differences, error)
    values (${runId}, ${outcome.job.spec.name}, ${error ? 'failed' : 'done'}, ${result?.applied ?? null}, ${result?.position ?? null},
            ${result?.differences ? sql.jsonb(result.differences as never) : null}, ${error?.message ?? null})
    on conflict (run_id, tenant_id) do update set status = excluded.status, applied = excluded.applied, position = excluded.position,
      differences = excluded.differences, error = excluded.error, finished_at = now()`);
}

/** A run with no failure left is finished; one with failures stays open, so the next run retries only those. */
export async function finishRun(pool: DatabasePool, runId: string, succeeded: boolean): Promise<void> {
  if (succeeded) await pool.query(sql.unsafe`update rebuild_runs set finished_at = now() where run_id = ${runId}`);
}
