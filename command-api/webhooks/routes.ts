import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../core/adapters/http.ts';
import { decision, type EventStreams } from '../../core/eventing/command-handler.ts';
import type { Config } from '../../core/adapters/config.ts';
import type { DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { allowedClasses, assertPublicUrl } from '../../core/adapters/outbound-address.ts';
import { createWebhookSecretQueries, newWebhookSecret } from '../../core/adapters/webhook-secrets.ts';
import { requireWebhookUrl, webhookDecider, webhookStreamId, type WebhookCommand, type WebhookState } from '../../domain/webhook/index.ts';
import { answerCommand, ifMatchVersion } from '../answer-command.ts';
import { CommandAccepted, ErrorResponse, TenantParams } from '../schemas.ts';
import { accessFrom, requireRole, tenantReads, type TenantAccess } from '../tenants/access.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const WebhookParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), webhookId: Type.String({ format: 'uuid' }) });
const EventFilter = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 100,
  description: 'event types (see the event catalogue), or ["*"] for every event of the tenant',
});
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'http or https; must resolve to public addresses' });
const Description = Type.String({ maxLength: 500 });
const WithSecret = Type.Object({
  ...CommandAccepted.properties,
  secret: Type.String({ description: 'whsec_ + base64: shown only in this answer; verify webhook-signature with it' }),
});
const secured = { security: [{ bearer: [] }] };

/** Tenant admins manage webhook subscriptions; users and viewers get 403, other tenants 404. */
export async function webhookRoutes(app: App, options: { store: EventStreams; config: Config }): Promise<void> {
  const { store, config } = options;
  const allowed = allowedClasses(config.WEBHOOK_ALLOW_PRIVATE);
  app.addHook('onRequest', app.authenticate);

  /** Form first (a clear INVALID_WEBHOOK_URL), then where the host resolves to (I/O, so not in decide). */
  async function requireReachableUrl(url: string): Promise<void> {
    await assertPublicUrl(requireWebhookUrl(url), allowed);
  }

  app.post(
    '/api/tenants/:tenantId/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: "Subscribe a URL to the tenant's events (admin); the answer holds the signing secret, once",
        ...secured,
        params: TenantParams,
        body: Type.Object({ url: Url, events: EventFilter, description: Type.Optional(Description) }, { additionalProperties: false }),
        response: { 201: WithSecret, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params;
      const webhookId = randomUUID();
      const secret = newWebhookSecret();
      return webhookCommand(request, reply, tenantId, webhookId, {
        statusCode: 201,
        // The caller's role is checked (in the plan) before the URL's host is resolved.
        command: (access) => ({
          type: 'SubscribeWebhook',
          data: {
            ...facts(request, tenantId, access),
            webhookId,
            url: request.body.url,
            events: request.body.events,
            description: request.body.description ?? '',
          },
        }),
        check: () => requireReachableUrl(request.body.url),
        inTransaction: (tx) => createWebhookSecretQueries(tx).store(webhookId, 1, secret),
        body: { secret },
      });
    },
  );

  app.put(
    '/api/tenants/:tenantId/webhooks/:webhookId',
    {
      schema: {
        tags: ['webhooks'],
        summary: "Change a webhook's url, events, description, or enable/disable it (admin)",
        ...secured,
        params: WebhookParams,
        body: Type.Object(
          { url: Type.Optional(Url), events: Type.Optional(EventFilter), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, webhookId } = request.params;
      const { url } = request.body;
      return webhookCommand(request, reply, tenantId, webhookId, {
        command: (access) => ({ type: 'UpdateWebhook', data: { ...facts(request, tenantId, access), ...request.body } }),
        ...(url === undefined ? {} : { check: () => requireReachableUrl(url) }),
      });
    },
  );

  app.post(
    '/api/tenants/:tenantId/webhooks/:webhookId/rotate-secret',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Replace the signing secret (admin); the previous one keeps signing beside it for a day',
        ...secured,
        params: WebhookParams,
        response: { 200: Type.Object({ ...WithSecret.properties, previousSecretValidUntil: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, webhookId } = request.params;
      const secret = newWebhookSecret();
      const previousValidUntil = new Date(Date.now() + config.WEBHOOK_SECRET_OVERLAP_SECONDS * 1000).toISOString();
      // The version the rotation gives the secret, from the state it is decided on (each attempt).
      let secretVersion = 0;
      return webhookCommand(request, reply, tenantId, webhookId, {
        command: (access, state) => {
          secretVersion = state.status === 'enabled' || state.status === 'disabled' ? state.secretVersion + 1 : 0;
          return { type: 'RotateWebhookSecret', data: { ...facts(request, tenantId, access), previousValidUntil } };
        },
        inTransaction: (tx) => createWebhookSecretQueries(tx).store(webhookId, secretVersion, secret, previousValidUntil),
        body: { secret, previousSecretValidUntil: previousValidUntil },
      });
    },
  );

  app.delete(
    '/api/tenants/:tenantId/webhooks/:webhookId',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Remove a webhook (admin); its pending deliveries are dropped',
        ...secured,
        params: WebhookParams,
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, webhookId } = request.params;
      return webhookCommand(request, reply, tenantId, webhookId, {
        command: (access) => ({ type: 'RemoveWebhook', data: facts(request, tenantId, access) }),
        inTransaction: (tx) => createWebhookSecretQueries(tx).forget(webhookId),
      });
    },
  );

  function facts(request: FastifyRequest, tenantId: string, access: TenantAccess) {
    return { tenantId, actorId: request.actor.userId, actorRole: access.role, now: new Date().toISOString() };
  }

  /**
   * An admin's command on one webhook: the tenant's streams are read once for the caller's role
   * (users and viewers 403, outsiders 404), then `check` (I/O such as DNS), then the decision.
   * `inTransaction` writes the secret rows with the events; If-Match is honoured.
   */
  function webhookCommand(
    request: FastifyRequest,
    reply: FastifyReply,
    tenantId: string,
    webhookId: string,
    options: {
      command: (access: TenantAccess, state: WebhookState) => WebhookCommand;
      check?: () => Promise<void>;
      inTransaction?: (tx: DatabaseTransactionConnection) => Promise<void>;
      statusCode?: 200 | 201;
      body?: Record<string, unknown>;
    },
  ) {
    const ifMatch = ifMatchVersion(request);
    const streamId = webhookStreamId(webhookId);
    return answerCommand(store, request, reply, {
      actor: request.actor.userId,
      tenantId,
      decisions: {
        reads: tenantReads(tenantId),
        decide: async (loaded) => {
          const access = accessFrom(loaded, tenantId, request.actor.userId);
          requireRole(access, ['admin']);
          await options.check?.();
          return [decision(webhookDecider, streamId, (state: WebhookState) => options.command(access, state), { ifMatch })];
        },
      },
      ...(options.inTransaction ? { alsoInTransaction: options.inTransaction } : {}),
      answer: ({ versions }) => ({ statusCode: options.statusCode ?? 200, body: { id: webhookId, ...options.body }, version: versions[streamId] }),
    });
  }
}
