import { Type, type Static } from 'typebox';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { createWebhookQueries, type WebhookRow } from './webhook-queries.ts';
import { ErrorResponse, httpError, type App } from '../../core/adapters/http.ts';
import type { Freshness } from '../freshness.ts';
import type { MembershipQueries } from '../tenants/access.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 504: ErrorResponse };
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
const WebhookParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), webhookId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

/** A subscription as its admins see it: never the secret, only which version signs. */
const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([Type.Literal('admin'), Type.Literal('failures'), Type.Null()]),
  secretVersion: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  version: Type.Integer(),
});
const Attempt = Type.Object({
  id: Type.Integer(),
  eventId: Type.String(),
  eventType: Type.String(),
  messageId: Type.String({ description: 'the webhook-id header' }),
  attempt: Type.Integer(),
  outcome: Type.Union([Type.Literal('delivered'), Type.Literal('retrying'), Type.Literal('failed')]),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  responseBody: Type.Union([Type.String(), Type.Null()], { description: 'at most the first 1 KiB' }),
  attemptedAt: Type.String(),
});
function webhookView(row: WebhookRow): Static<typeof Webhook> {
  return {
    id: row.webhook_id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    secretVersion: row.secret_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** Tenant admins read their webhooks and recent delivery attempts; users and viewers 403, outsiders 404. */
export async function webhookQueryRoutes(app: App, options: { pool: DatabasePool; freshness: Freshness; memberships: MembershipQueries }): Promise<void> {
  const { freshness, memberships } = options;
  const webhooks = createWebhookQueries(options.pool);
  app.addHook('onRequest', app.authenticate);

  async function requireAdmin(request: { headers: Record<string, unknown>; actor: { userId: string } }, tenantId: string): Promise<void> {
    // A client reading its own writes (X-Min-Position) gets its membership afresh, not from the cache.
    const membership = await memberships.memberOf(tenantId, request.actor.userId, { fresh: request.headers['x-min-position'] !== undefined });
    if (membership.role !== 'admin') throw httpError(403, 'FORBIDDEN', 'webhooks are for tenant admins');
  }

  async function webhookOf(tenantId: string, webhookId: string) {
    const row = await webhooks.findWebhook(tenantId, webhookId);
    if (!row) throw httpError(404, 'WEBHOOK_NOT_FOUND', 'no such webhook in this tenant');
    return row;
  }

  app.get(
    '/api/tenants/:tenantId/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: "The tenant's webhooks (admin); secrets are never shown",
        ...secured,
        params: TenantParams,
        response: { 200: Type.Object({ items: Type.Array(Webhook) }), ...errors },
      },
    },
    async (request) => {
      const { tenantId } = request.params;
      await requireAdmin(request, tenantId);
      await freshness.projection(request, 'webhooks', tenantId);
      const rows = await webhooks.listWebhooks(tenantId);
      return { items: rows.map(webhookView) };
    },
  );

  app.get(
    '/api/tenants/:tenantId/webhooks/:webhookId',
    {
      schema: { tags: ['webhooks'], summary: 'One webhook (admin)', ...secured, params: WebhookParams, response: { 200: Webhook, ...errors } },
    },
    async (request, reply) => {
      const { tenantId, webhookId } = request.params;
      await requireAdmin(request, tenantId);
      await freshness.projection(request, 'webhooks', tenantId);
      const webhook = webhookView(await webhookOf(tenantId, webhookId));
      reply.header('etag', `"${webhook.version}"`);
      return webhook;
    },
  );

  app.get(
    '/api/tenants/:tenantId/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: "A webhook's delivery attempts, newest first (admin)",
        ...secured,
        params: WebhookParams,
        querystring: Type.Object({
          before: Type.Optional(Type.Integer({ minimum: 1, description: 'nextBefore of the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(Attempt), nextBefore: Type.Union([Type.Integer(), Type.Null()]) }), ...errors },
      },
    },
    async (request) => {
      const { tenantId, webhookId } = request.params;
      await requireAdmin(request, tenantId);
      await freshness.projection(request, 'webhooks', tenantId);
      await webhookOf(tenantId, webhookId);
      const rows = await webhooks.listAttempts(webhookId, { before: request.query.before, limit: request.query.limit });
      const items = rows.map((r) => ({
        id: r.attempt_id,
        eventId: r.event_id,
        eventType: r.event_type,
        messageId: r.message_id,
        attempt: r.attempt,
        outcome: r.outcome,
        statusCode: r.status_code,
        durationMs: r.duration_ms,
        error: r.error,
        responseBody: r.response_body,
        attemptedAt: r.attempted_at,
      }));
      return { items, nextBefore: rows.length === request.query.limit ? (items.at(-1)?.id ?? null) : null };
    },
  );
}
