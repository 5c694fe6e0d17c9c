// Rebuilds projections from the Kafka log into fresh tables and swaps them in, with progress,
// while the query API keeps serving:
//   npm run rebuild -- --tenant <id|slug>   one tenant's files and documents (reads only its partition)
//   npm run rebuild -- --all-tenants        every active tenant: each partition read once, tenants in
//                                           parallel (--concurrency, default 4); resumes a crashed or
//                                           failed run (--fresh starts a new one)
//   npm run rebuild -- --main | --audit     users, tenants, memberships | the audit trail
//   --dry-run                               build and compare with the live rows (checksums), no swap
// Exit: 0 all done (a dry run: no differences), 1 a target failed, 2 bad usage, 3 a dry run found differences.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { bootstrap } from '../core/adapters/process.ts';
import { failpoint } from '../core/adapters/failpoints.ts';
import { createServices } from '../core/adapters/services.ts';
import { createTenantPools } from '../core/adapters/tenant-pools.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';
import { rebuildJobs, type JobOutcome, type RebuildJob } from '../core/eventing/rebuild-runner.ts';
import { createProgress, printSummary } from '../core/adapters/operator-progress.ts';
import { startRun, recordTenant, finishRun } from '../core/eventing/rebuild-runs.ts';
import { activeTenants, auditRebuild, mainRebuild, resolveTenant, tenantRebuild } from '../projectors/shared/rebuild-specs.ts';

const USAGE = 'usage: npm run rebuild -- --tenant <id|slug> | --all-tenants [--fresh] [--concurrency N] | --main | --audit  [--dry-run]\n';
let parsed;
try {
  parsed = parseArgs({
    options: {
      tenant: { type: 'string' },
      'all-tenants': { type: 'boolean' },
      main: { type: 'boolean' },
      audit: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      fresh: { type: 'boolean' },
      concurrency: { type: 'string', default: '4' },
    },
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
const concurrency = Number(values.concurrency);
if ((!values.tenant && !values['all-tenants'] && !values.main && !values.audit) || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const dryRun = values['dry-run'] ?? false;
const { config, logger } = await bootstrap('rebuild');
const services = await createServices(config, logger);
const tenantPools = createTenantPools({ servers: createTenantServers(config), poolSize: 2, maxPools: Math.max(4, concurrency * 2) });
const groupPrefix = `${config.TOPIC_PREFIX}ledgerline.rebuild.`;
const { pool, eventLog, topics } = services;
let exitCode = 0;
try {
  // Groups a killed rebuild left behind (their member has timed out by now, or is deleted at the end).
  await eventLog.deleteIdleGroupsWithPrefix(groupPrefix);
  const jobs: RebuildJob[] = [];
  if (values.main) jobs.push({ spec: mainRebuild(pool, topics), db: async () => pool });
  if (values.audit) jobs.push({ spec: auditRebuild(pool, topics), db: async () => pool });
  const tenantJob = (t: { tenantId: string; databaseName: string; server: string }): RebuildJob => ({
    spec: tenantRebuild(pool, topics, t.tenantId),
    db: () => tenantPools.get(t.databaseName, t.server),
  });
  if (values.tenant) {
    const tenant = await resolveTenant(pool, values.tenant);
    if (!tenant) {
      logger.error({ tenant: values.tenant }, 'no such active tenant');
      exitCode = 1;
    } else jobs.push(tenantJob(tenant));
  }
  const run = values['all-tenants'] ? await startRun(pool, { dryRun, fresh: values.fresh ?? false, logger }) : undefined;
  if (run) {
    const tenants = (await activeTenants(pool)).filter((t) => !run.done.has(t.tenantId));
    logger.info(
      { runId: run.runId, resumed: run.resumed, alreadyDone: run.done.size, toDo: tenants.length },
      run.resumed ? 'resuming rebuild run' : 'rebuild run started',
    );
    jobs.push(...tenants.map(tenantJob));
  }
  const progress = createProgress(logger, dryRun ? 'rebuild (dry run)' : 'rebuild', 0, 'events');
  const started = performance.now();
  const outcomes: JobOutcome[] = await rebuildJobs({
    eventLog,
    groupId: `${groupPrefix}${run?.runId ?? randomUUID()}`,
    jobs,
    dryRun,
    concurrency,
    logger,
    progress,
    onOutcome: async (outcome) => {
      if (run && outcome.job.spec.key !== undefined) await recordTenant(pool, run.runId, outcome);
      failpoint('rebuild-after-tenant');
    },
  });
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  const rows = outcomes.map(({ job, result, error }) => ({
    target: job.spec.name,
    result: error ? 'failed' : dryRun ? (result?.differences?.length ? 'differs' : 'equal') : 'swapped',
    ...(result ? { applied: result.applied, position: result.position, livePosition: result.livePosition } : {}),
    ...(result?.differences?.length ? { differences: result.differences } : {}),
    ...(error ? { error: error.message } : {}),
  }));
  printSummary(logger, dryRun ? 'rebuild dry run: target result' : 'rebuild: target result', rows);
  const failed = rows.filter((r) => r.result === 'failed').length;
  const differing = rows.filter((r) => r.result === 'differs').length;
  const applied = outcomes.reduce((sum, o) => sum + (o.result?.applied ?? 0), 0);
  if (run) await finishRun(pool, run.runId, failed === 0);
  logger.info(
    {
      targets: rows.length,
      failed,
      differing,
      applied,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(applied / seconds),
      runId: run?.runId,
    },
    'rebuild finished',
  );
  exitCode = failed > 0 || exitCode ? 1 : differing > 0 ? 3 : 0;
} catch (err) {
  logger.error({ err }, 'rebuild failed');
  exitCode = 1;
} finally {
  await leaveNoGroups();
  await tenantPools.closeAll();
  await services.close();
}
process.exit(exitCode);

/** No rebuild consumer group outlives the command: a killed run's group is deleted once its member has timed out. */
async function leaveNoGroups(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const remaining = await eventLog.deleteIdleGroupsWithPrefix(groupPrefix);
      if (remaining.length === 0) return;
      if (Date.now() > deadline) {
        logger.warn({ groups: remaining }, 'rebuild consumer groups still have members; not deleted');
        return;
      }
    } catch (err) {
      logger.warn({ err }, 'could not delete rebuild consumer groups');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
