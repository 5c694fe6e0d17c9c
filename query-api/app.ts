import { createApp, operations, type App } from '../platform/http.ts';
import { registerOpenApi } from '../platform/openapi.ts';
import type { Services } from '../platform/services.ts';

/** The query API: reads read models only; server.ts makes it listen. */
export async function buildQueryApi(services: Services): Promise<App> {
  const app = await createApp(services.logger);
  await registerOpenApi(app, 'Ledgerline query API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'query-api' });
  return app;
}
