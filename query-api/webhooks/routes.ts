import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
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
const WebhookRow = Type.Object({
  webhook_id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  enabled: Type.Boolean(),
  disabled_reason: Type.Union([Type.Literal('admin'), Type.Literal('failures'), Type.Null()]),
  secret_version: Type.Number(),
  created_at: Type.String(),
  updated_at: Type.String(),
  version: Type.Number(),
});
const webhookRow = rowSchema(WebhookRow);
const WEBHOOK_COLUMNS = sql.fragment`webhook_id, url, events, description, enabled, disabled_reason, secret_version,
  to_json(created_at)#>>'{}' as created_at, to_json(updated_at)#>>'{}' as updated_at, version`;

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
const attemptRow = rowSchema(
  Type.Object({
    attempt_id: Type.Number(),
    event_id: Type.String(),
    event_type: Type.String(),
    message_id: Type.String(),
    attempt: Type.Number(),
    outcome: Type.Union([Type.Literal('delivered'), Type.Literal('retrying'), Type.Literal('failed')]),
    status_code: Type.Union([Type.Number(), Type.Null()]),
    duration_ms: Type.Number(),
    error: Type.Union([Type.String(), Type.Null()]),
    response_body: Type.Union([Type.String(), Type.Null()]),
    attempted_at: Type.String(),
  }),
);

function webhookView(row: Static<typeof WebhookRow>): Static<typeof Webhook> {
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
  const { pool, freshness, memberships } = options;
  app.addHook('onRequest', app.authenticate);

  async function requireAdmin(request: { headers: Record<string, unknown>; actor: { userId: string } }, tenantId: string): Promise<void> {
    // A client reading its own writes (X-Min-Position) gets its membership afresh, not from the cache.
    const membership = await memberships.memberOf(tenantId, request.actor.userId, { fresh: request.headers['x-min-position'] !== undefined });
    if (membership.role !== 'admin') throw httpError(403, 'FORBIDDEN', 'webhooks are for tenant admins');
  }

  async function webhookOf(tenantId: string, webhookId: string) {
    const row = await pool.maybeOne(sql.type(webhookRow)`select ${WEBHOOK_COLUMNS} from webhooks where tenant_id = ${tenantId} and webhook_id = ${webhookId}`);
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
      const rows = await pool.any(sql.type(webhookRow)`select ${WEBHOOK_COLUMNS} from webhooks where tenant_id = ${tenantId} order by created_at, webhook_id`);
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
      const rows = await pool.any(sql.type(attemptRow)`
      select attempt_id, event_id, event_type, message_id, attempt, outcome, status_code, duration_ms, error, response_body,
        to_json(attempted_at)#>>'{}' as attempted_at
      from webhook_attempts where webhook_id = ${webhookId} and attempt_id < ${request.query.before ?? Number.MAX_SAFE_INTEGER}
      order by attempt_id desc limit ${request.query.limit}`);
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
