import { runProjectors } from '../shared/run.ts';
import { createTenantPools } from '../../platform/tenant-pools.ts';
import { domainEventRegistry } from '../../platform/event-registry.ts';
import { tenantProjection } from './projection.ts';
import { fileJanitorProjection } from './file-janitor.ts';

await runProjectors('projector-tenant', 4995, async ({ pool, topics, topicOf, config, s3 }) => {
  const tenantPools = createTenantPools({ mainUri: config.DATABASE_URL, poolSize: config.TENANT_POOL_SIZE, maxPools: config.TENANT_POOLS_MAX });
  return [
    tenantProjection({ pool, tenantPools, topics }),
    fileJanitorProjection({ store: { pool, registry: domainEventRegistry, topicOf }, s3, topics }),
  ];
});
