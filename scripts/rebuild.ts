// Rebuilds projections from the Kafka log into fresh tables and swaps them in, with progress,
// while the query API keeps serving:
//   node scripts/rebuild.ts --tenant <id|slug>   one tenant's files and documents
//   node scripts/rebuild.ts --all-tenants        every active tenant, one after the other
//   node scripts/rebuild.ts --main               users, tenants, memberships
import { parseArgs } from 'node:util';
import { bootstrap } from '../platform/process.ts';
import { createServices } from '../platform/services.ts';
import { createTenantPools } from '../platform/tenant-pools.ts';
import { rebuildFromLog } from '../platform/rebuild.ts';
import { mainRebuild, resolveTenant, tenantRebuild } from '../projectors/shared/rebuild-specs.ts';
import { sql } from '../platform/db.ts';

const { values } = parseArgs({ options: { tenant: { type: 'string' }, 'all-tenants': { type: 'boolean' }, main: { type: 'boolean' } } });
if (!values.tenant && !values['all-tenants'] && !values.main) {
  process.stderr.write('usage: node scripts/rebuild.ts --tenant <id|slug> | --all-tenants | --main\n');
  process.exit(2);
}
const { config, logger } = await bootstrap('rebuild');
const services = await createServices(config, logger);
const tenantPools = createTenantPools({ mainUri: config.DATABASE_URL, poolSize: 2, maxPools: 4 });
const groupPrefix = config.TOPIC_PREFIX;
let failed = false;
try {
  if (values.main) {
    const result = await rebuildFromLog({ eventLog: services.eventLog, db: services.pool, spec: mainRebuild(services.pool, services.topics), logger: logger.child({ rebuild: 'main' }), groupPrefix });
    logger.info(result, 'main read models rebuilt');
  }
  const tenants = values['all-tenants']
    ? (await services.pool.anyFirst(sql.unsafe`select tenant_id from tenants where status = 'active' order by created_at`)).map(String)
    : values.tenant ? [values.tenant] : [];
  for (const [index, idOrSlug] of tenants.entries()) {
    const tenant = await resolveTenant(services.pool, idOrSlug);
    if (!tenant) { logger.error({ tenant: idOrSlug }, 'no such active tenant'); failed = true; continue; }
    const db = await tenantPools.get(tenant.databaseName);
    const result = await rebuildFromLog({
      eventLog: services.eventLog, db, spec: tenantRebuild(services.pool, services.topics, tenant.tenantId),
      logger: logger.child({ rebuild: tenant.tenantId, tenants: `${index + 1}/${tenants.length}` }), groupPrefix,
    });
    logger.info({ tenantId: tenant.tenantId, ...result }, 'tenant read models rebuilt');
  }
} finally {
  await tenantPools.closeAll();
  await services.close();
}
process.exit(failed ? 1 : 0);
