// Tenant placement, for operators:
//   npm run tenants -- list                          every live tenant's server and database, and tenants per server
//   npm run tenants -- move <id|slug> --to <server>  moves a tenant's database online (projectors/tenant/move-tenant.ts)
//        [--drain-ms N]                              how long reads may still use the old database before it is dropped (default 5000)
// Exit: 0 done (or already there), 1 failed, 2 bad usage.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { bootstrap } from '../core/adapters/process.ts';
import { rowSchema, sql } from '../core/adapters/db.ts';
import { createServices } from '../core/adapters/services.ts';
import { createTenantPools } from '../core/adapters/tenant-pools.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';
import { createProgress, printSummary } from '../core/adapters/operator-progress.ts';
import { MOVE_STEPS, MoveError, moveTenant } from '../projectors/tenant/move-tenant.ts';

const USAGE = 'usage: npm run tenants -- list | move <id|slug> --to <server> [--drain-ms N]\n';
let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { to: { type: 'string' }, 'drain-ms': { type: 'string', default: '5000' } } });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const [action, target] = positionals;
const drainMs = Number(values['drain-ms']);
const usable =
  (action === 'list' && positionals.length === 1) ||
  (action === 'move' && positionals.length === 2 && values.to !== undefined && Number.isInteger(drainMs) && drainMs >= 0);
if (!usable) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const { config, logger } = await bootstrap('tenants');
const services = await createServices(config, logger);
const servers = createTenantServers(config);
const tenantPools = createTenantPools({ servers, poolSize: 2, maxPools: 4 });
const groupPrefix = `${config.TOPIC_PREFIX}ledgerline.tenant-move.`;
const PlacementRow = rowSchema(
  Type.Object({ slug: Type.String(), tenant_id: Type.String(), server: Type.String(), database_name: Type.String(), status: Type.String() }),
);
let exitCode = 0;
try {
  if (action === 'list') {
    const rows = await services.pool.any(sql.type(PlacementRow)`
      select t.slug, t.tenant_id::text, p.server, p.database_name, t.status from tenant_placements p join tenants t using (tenant_id) order by t.created_at`);
    printSummary(
      logger,
      'tenants: placement',
      rows.map((r) => ({ tenant: r.slug, tenantId: r.tenant_id, server: r.server, database: r.database_name, status: r.status })),
    );
    const perServer = Object.fromEntries(servers.names().map((name) => [name, rows.filter((r) => r.server === name).length]));
    printSummary(
      logger,
      'tenants per server',
      Object.entries(perServer).map(([server, tenants]) => ({ server, tenants })),
    );
  } else {
    const progress = createProgress(logger, `tenants move ${target} → ${values.to}`, MOVE_STEPS.length, 'steps');
    const outcome = await moveTenant({
      pool: services.pool,
      store: services.store,
      eventLog: services.eventLog,
      topics: services.topics,
      servers,
      tenantPools,
      logger,
      progress,
      tenant: String(target),
      to: String(values.to),
      groupId: `${groupPrefix}${randomUUID()}`,
      drainMs,
      migrationsDir: config.TENANT_MIGRATIONS_DIR,
    });
    progress.stop();
    if (outcome) printSummary(logger, 'tenants move: result', [{ result: 'moved', ...outcome }]);
    else printSummary(logger, 'tenants move: result', [{ result: 'already there', tenant: target, server: values.to }]);
  }
} catch (err) {
  if (err instanceof MoveError) logger.error({ tenant: target, to: values.to }, err.message);
  else logger.error({ err }, 'tenants command failed');
  exitCode = 1;
} finally {
  await services.eventLog.deleteIdleGroupsWithPrefix(groupPrefix).catch(() => []);
  await tenantPools.closeAll();
  await services.close();
}
process.exit(exitCode);
