import { runProjectors } from '../shared/run.ts';
import { createTenantPools } from '../../platform/tenant-pools.ts';
import { tenantProjection } from './projection.ts';
import { fileJanitorProjection } from './file-janitor.ts';

await runProjectors('projector-tenant', 4995, async ({ pool, topics, store, config, s3 }) => {
  const tenantPools = createTenantPools({ mainUri: config.DATABASE_URL, poolSize: config.TENANT_POOL_SIZE, maxPools: config.TENANT_POOLS_MAX });
  return [
    tenantProjection({ pool, tenantPools, topics }),
    fileJanitorProjection({ store, s3, topics }),
  ];
});
