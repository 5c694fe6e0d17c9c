import { createApp, operations, type App } from '../platform/http.ts';
import { registerOpenApi } from '../platform/openapi.ts';
import { authentication } from '../platform/auth.ts';
import type { Services } from '../platform/services.ts';
import { createFreshness } from './freshness.ts';
import { identityRoutes } from './tenants/routes.ts';
import { documentQueryRoutes } from './documents/routes.ts';
import { createTenantPools } from '../platform/tenant-pools.ts';
import { domainEventRegistry } from '../platform/event-registry.ts';

/** The query API: reads read models only; server.ts makes it listen. */
export async function buildQueryApi(services: Services): Promise<App> {
  const { config, pool } = services;
  const app = await createApp(services.logger);
  await registerOpenApi(app, 'Ledgerline query API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'query-api' });
  await app.register(authentication, { config, pool });
  const freshness = createFreshness(pool, config.READ_YOUR_WRITES_TIMEOUT_MS);
  await app.register(identityRoutes, { pool, freshness });
  const tenantPools = createTenantPools({ mainUri: config.DATABASE_URL, poolSize: config.TENANT_POOL_SIZE, maxPools: config.TENANT_POOLS_MAX });
  app.addHook('onClose', () => tenantPools.closeAll());
  const store = { pool, registry: domainEventRegistry, topicOf: services.topicOf };
  await app.register(documentQueryRoutes, { pool, tenantPools, freshness, s3: services.s3, store });
  return app;
}
