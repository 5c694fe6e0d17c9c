import { createApp, operations, type App } from '../platform/http.ts';
import { registerOpenApi } from '../platform/openapi.ts';
import { authentication } from '../platform/auth.ts';
import type { Services } from '../platform/services.ts';
import { createFreshness } from './freshness.ts';
import { identityRoutes } from './tenants/routes.ts';

/** The query API: reads read models only; server.ts makes it listen. */
export async function buildQueryApi(services: Services): Promise<App> {
  const { config, pool } = services;
  const app = await createApp(services.logger);
  await registerOpenApi(app, 'Ledgerline query API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'query-api' });
  await app.register(authentication, { config, pool });
  const freshness = createFreshness(pool, config.READ_YOUR_WRITES_TIMEOUT_MS);
  await app.register(identityRoutes, { pool, freshness });
  return app;
}
