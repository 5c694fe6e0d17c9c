// Brings every active tenant's database (or one) up to the tenant schema's numbered files:
//   npm run migrate:tenants -- [--dry-run] [--tenant <id|slug>] [--history] [--status]
//                              [--concurrency N] [--dir <migrations dir>] [--lock-wait-ms N]
// Tenants migrate in parallel (at most --concurrency at once), each under its own database's
// migration lock; one failing does not stop the others. Exits 0 when every tenant succeeded,
// 1 when any failed, 2 on bad usage.
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { bootstrap } from '../core/adapters/process.ts';
import { createDatabasePool, rowSchema, sql } from '../core/adapters/db.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';
import { tenantMigrations } from '../core/adapters/migrate.ts';
import { migrateDatabase, modeOf, type DatabaseOutcome } from '../core/adapters/migration-runner.ts';
import { createProgress, mapBounded, printSummary } from '../core/adapters/operator-progress.ts';

const USAGE = 'usage: npm run migrate:tenants -- [--dry-run] [--tenant <id|slug>] [--history] [--status] [--concurrency N] [--dir <path>] [--lock-wait-ms N]\n';
let parsed;
try {
  parsed = parseArgs({
    options: {
      'dry-run': { type: 'boolean' },
      tenant: { type: 'string' },
      history: { type: 'boolean' },
      status: { type: 'boolean' },
      concurrency: { type: 'string', default: '4' },
      dir: { type: 'string' },
      'lock-wait-ms': { type: 'string', default: '60000' },
    },
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
const concurrency = Number(values.concurrency);
const lockWaitMs = Number(values['lock-wait-ms']);
if (!Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(lockWaitMs) || lockWaitMs < 0) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const mode = modeOf(values);
const { config, logger } = await bootstrap('migrate-tenants');
const directory = values.dir ?? tenantMigrations(config.TENANT_MIGRATIONS_DIR);
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 2 });
const servers = createTenantServers(config);

const TenantRow = rowSchema(Type.Object({ tenant_id: Type.String(), slug: Type.String(), database_name: Type.String(), server: Type.String() }));
const only = values.tenant === undefined ? sql.fragment`true` : sql.fragment`(tenant_id::text = ${values.tenant} or slug = ${values.tenant})`;
const tenants = await pool.any(sql.type(TenantRow)`
  select tenant_id, slug, database_name, server from tenants where status = 'active' and ${only} order by created_at`);
await pool.end();
if (values.tenant !== undefined && tenants.length === 0) {
  logger.error({ tenant: values.tenant }, 'no such active tenant');
  process.exit(1);
}

logger.info({ mode, tenants: tenants.length, concurrency, directory }, 'migrating tenant databases');
const progress = createProgress(logger, `migrate:tenants ${mode}`, tenants.length, 'tenants');
let finished = 0;
const outcomes = await mapBounded(tenants, concurrency, async (tenant) => {
  const outcome: DatabaseOutcome = await migrateDatabase(mode, servers.databaseUri(tenant.server, tenant.database_name), directory, { lockWaitMs });
  finished += 1;
  progress.update(finished, { tenant: tenant.slug, result: outcome.result });
  return outcome;
});
progress.stop();

const rows = tenants.map((tenant, i) => {
  const settled = outcomes[i];
  const outcome: DatabaseOutcome = settled?.status === 'fulfilled' ? settled.value : { ok: false, result: 'failed', error: String(settled?.reason), ms: 0 };
  return { tenant: tenant.slug, tenantId: tenant.tenant_id, server: tenant.server, database: tenant.database_name, ...outcome };
});
printSummary(logger, `migrate:tenants ${mode}: tenant result`, rows);
const failed = rows.filter((r) => !r.ok);
for (const row of failed) logger.error({ tenant: row.tenant, tenantId: row.tenantId, error: row.error }, 'tenant migration failed');
logger.info(
  { mode, tenants: rows.length, succeeded: rows.length - failed.length, failed: failed.length },
  failed.length ? 'migrate:tenants finished with failures' : 'migrate:tenants done',
);
process.exit(failed.length ? 1 : 0);
