import { runProjectors } from '../shared/run.ts';
import { createTenantPools } from '../../core/adapters/tenant-pools.ts';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';
import { tenantProjection } from './projection.ts';
import { fileJanitorProjection } from './file-janitor.ts';
import { startOrphanSweeper } from './orphan-objects.ts';

await runProjectors('projector-tenant', 4995, async ({ pool, topics, store, config, s3, logger }) => {
  // Objects an upload left behind when S3 or PostgreSQL failed at the wrong moment.
  startOrphanSweeper({
    s3,
    pool,
    logger: logger.child({ component: 'orphan-sweeper' }),
    intervalMs: config.ORPHAN_SWEEP_INTERVAL_MS,
    minAgeMs: config.ORPHAN_MIN_AGE_MS,
  });
  const tenantPools = createTenantPools({ servers: createTenantServers(config), poolSize: config.TENANT_POOL_SIZE, maxPools: config.TENANT_POOLS_MAX });
  return [tenantProjection({ pool, tenantPools, topics }), fileJanitorProjection({ store, s3, topics })];
});
