import { runProjectors } from '../shared/run.ts';
import { provisionerProjection } from './projection.ts';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';

await runProjectors('provisioner', 4996, async ({ topics, store, config, logger, s3 }) => [
  provisionerProjection({
    store,
    mainUri: config.DATABASE_URL,
    servers: createTenantServers(config),
    topics,
    logger,
    s3,
    tenantMigrations: config.TENANT_MIGRATIONS_DIR,
  }),
]);
