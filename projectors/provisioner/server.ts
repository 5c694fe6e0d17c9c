import { runProjectors } from '../shared/run.ts';
import { provisionerProjection } from './projection.ts';

await runProjectors('provisioner', 4996, async ({ topics, store, config, logger, s3 }) => [
  provisionerProjection({ store, mainUri: config.DATABASE_URL, topics, logger, s3, tenantMigrations: config.TENANT_MIGRATIONS_DIR }),
]);
