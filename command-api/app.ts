import { createApp, operations, type App } from '../core/adapters/http.ts';
import { registerOpenApi } from '../core/adapters/openapi.ts';
import { authentication } from '../core/adapters/auth.ts';
import { listenForInvalidations } from '../core/eventing/invalidation.ts';
import type { Services } from '../core/adapters/services.ts';
import { authRoutes } from './auth/routes.ts';
import { createSessions } from '../core/adapters/sessions.ts';
import { createAuthAudit } from './auth/auth-audit.ts';
import { tenantRoutes } from './tenants/routes.ts';
import { erasureRoutes } from './erasure/routes.ts';
import { followKeyDeletions } from '../core/eventing/subject-keys.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';
import { invitationRoutes } from './invitations/routes.ts';
import multipart from '@fastify/multipart';
import { documentRoutes } from './documents/routes.ts';
import { webhookRoutes } from './webhooks/routes.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { fingerprintKeyFrom } from '../core/eventing/idempotency.ts';
import { apiServerOptions, corsOriginsFrom, httpSecurity } from '../core/adapters/http-security.ts';
import { createPasswords } from './auth/passwords.ts';
import { credentialRateLimits } from './auth/rate-limits.ts';
import { createUploadSlots } from './documents/upload-slots.ts';

/** The command API as a plugin-wired Fastify instance; server.ts makes it listen. */
export async function buildCommandApi(services: Services): Promise<App> {
  const { config, pool } = services;
  const app = await createApp(services.logger, apiServerOptions(config));
  await app.register(httpSecurity, { corsOrigins: corsOriginsFrom(config.CORS_ORIGINS) });
  await registerOpenApi(app, 'Ledgerline command API');
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service: 'command-api', operatorToken: config.OPERATOR_TOKEN });
  const invalidations = await listenForInvalidations(config.DATABASE_URL, services.logger);
  app.addHook('onClose', () => invalidations.close());
  followKeyDeletions(invalidations);
  await app.register(authentication, { config, pool, invalidations, jwtKeys: services.secrets.jwtKeys });
  app.decorate('fingerprintKey', fingerprintKeyFrom(config.JWT_SECRET));
  const { store } = services;
  const sessions = createSessions((claims) => app.signAccessToken(claims), pool, config);
  const passwords = createPasswords({ cost: config.BCRYPT_COST, concurrency: config.BCRYPT_CONCURRENCY });
  const guard = await credentialRateLimits(app, pool, config);
  await app.register(authRoutes, { store, sessions, passwords, guard, audit: createAuthAudit(store, config) });
  await app.register(tenantRoutes, { store, tenantQuota: config.TENANTS_PER_USER, tenantServers: createTenantServers(config).names() });
  await app.register(erasureRoutes, { store, passwords });
  await app.register(invitationRoutes, { store });
  await app.register(webhookRoutes, { store, config });
  await app.register(notificationRoutes, { store });
  // Two files allowed so that a second one gets our clear TOO_MANY_FILES rather than a 413.
  await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 2, fields: 20, parts: 30, fieldSize: 10_000 } });
  const slots = createUploadSlots({ perUser: config.UPLOADS_PER_USER, perProcess: config.UPLOADS_PER_PROCESS });
  await app.register(documentRoutes, { store, s3: services.s3, slots, stallMs: config.UPLOAD_STALL_TIMEOUT_MS });
  return app;
}
