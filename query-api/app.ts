import { createApp, operations, type App } from '../core/adapters/http.ts';
import { registerOpenApi } from '../core/adapters/openapi.ts';
import { authentication } from '../core/adapters/auth.ts';
import type { Services } from '../core/adapters/services.ts';
import { createFreshness } from './freshness.ts';
import { tenantQueryRoutes } from './tenants/routes.ts';
import { invitationQueryRoutes } from './invitations/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { documentQueryRoutes } from './documents/routes.ts';
import { webhookQueryRoutes } from './webhooks/routes.ts';
import { createTenantPools } from '../core/adapters/tenant-pools.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';
import { listenForInvalidations } from '../core/eventing/invalidation.ts';
import { createMembershipQueries } from './tenants/access.ts';
import { createDocumentReadCache } from './documents/document-queries.ts';
import { notificationQueryRoutes } from './notifications/routes.ts';
import { createNotificationQueries } from './notifications/queries.ts';
import { apiServerOptions, corsOriginsFrom, httpSecurity } from '../core/adapters/http-security.ts';

/** The query API: reads read models only; server.ts makes it listen. */
export async function buildQueryApi(services: Services): Promise<App> {
  const { config, pool } = services;
  const app = await createApp(services.logger, apiServerOptions(config));
  await app.register(httpSecurity, { corsOrigins: corsOriginsFrom(config.CORS_ORIGINS) });
  await registerOpenApi(app, 'Ledgerline query API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'query-api', operatorToken: config.OPERATOR_TOKEN });
  const invalidations = await listenForInvalidations(config.DATABASE_URL, services.logger);
  app.addHook('onClose', () => invalidations.close());
  await app.register(authentication, { config, pool, invalidations, jwtKeys: services.secrets.jwtKeys });
  const freshness = createFreshness(pool, config.READ_YOUR_WRITES_TIMEOUT_MS);
  const memberships = createMembershipQueries(pool, invalidations);
  await app.register(tenantQueryRoutes, { pool, freshness, memberships });
  await app.register(webhookQueryRoutes, { pool, freshness, memberships });
  await app.register(notificationQueryRoutes, { queries: createNotificationQueries(pool), freshness });
  await app.register(invitationQueryRoutes, { pool, freshness });
  await app.register(auditRoutes, { pool, freshness, memberships });
  const tenantPools = createTenantPools({ servers: createTenantServers(config), poolSize: config.TENANT_POOL_SIZE, maxPools: config.TENANT_POOLS_MAX });
  app.addHook('onClose', () => tenantPools.closeAll());
  await app.register(documentQueryRoutes, {
    memberships,
    tenantPools,
    freshness,
    s3: services.s3,
    store: services.store,
    readCache: createDocumentReadCache(invalidations, { maxEntries: config.READ_CACHE_ENTRIES, maxAgeMs: config.READ_CACHE_MAX_AGE_MS }),
  });
  return app;
}
