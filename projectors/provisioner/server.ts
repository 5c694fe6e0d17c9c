import { runProjectors } from '../shared/run.ts';
import { provisionerProjection } from './projection.ts';

await runProjectors('provisioner', 4996, async ({ topics, store, config, logger }) => [
  provisionerProjection({ store, mainUri: config.DATABASE_URL, topics, logger, tenantMigrations: config.TENANT_MIGRATIONS_DIR }),
]);
