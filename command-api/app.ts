import { createApp, operations, type App } from '../platform/http.ts';
import { registerOpenApi } from '../platform/openapi.ts';
import type { Services } from '../platform/services.ts';

/** The command API as a plugin-wired Fastify instance; server.ts makes it listen. */
export async function buildCommandApi(services: Services): Promise<App> {
  const app = await createApp(services.logger);
  await registerOpenApi(app, 'Ledgerline command API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'command-api' });
  return app;
}
