import type { App } from './http.ts';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** OpenAPI document built from the routes' TypeBox schemas, served at /api/docs (JSON at /api/docs/json). */
export async function registerOpenApi(app: App, title: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title, version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  // Its own CSP on its pages (helmet's API default, `default-src 'none'`, would blank them).
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
}
