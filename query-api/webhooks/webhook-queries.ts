import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';

const WebhookRowSchema = Type.Object({
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
export type WebhookRow = Static<typeof WebhookRowSchema>;
const webhookRow = rowSchema(WebhookRowSchema);
const WEBHOOK_COLUMNS = sql.fragment`webhook_id, url, events, description, enabled, disabled_reason, secret_version,
  to_json(created_at)#>>'{}' as created_at, to_json(updated_at)#>>'{}' as updated_at, version`;

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

/** The webhooks read model and the delivery attempts (projectors/webhooks writes both). */
export function createWebhookQueries(pool: DatabasePool) {
  return {
    findWebhook(tenantId: string, webhookId: string) {
      return pool.maybeOne(sql.type(webhookRow)`select ${WEBHOOK_COLUMNS} from webhooks where tenant_id = ${tenantId} and webhook_id = ${webhookId}`);
    },
    listWebhooks(tenantId: string) {
      return pool.any(sql.type(webhookRow)`select ${WEBHOOK_COLUMNS} from webhooks where tenant_id = ${tenantId} order by created_at, webhook_id`);
    },
    /** Newest first, a page of `limit` below the attempt id `before`. */
    listAttempts(webhookId: string, page: { before?: number | undefined; limit: number }) {
      return pool.any(sql.type(attemptRow)`
        select attempt_id, event_id, event_type, message_id, attempt, outcome, status_code, duration_ms, error, response_body,
          to_json(attempted_at)#>>'{}' as attempted_at
        from webhook_attempts where webhook_id = ${webhookId} and attempt_id < ${page.before ?? Number.MAX_SAFE_INTEGER}
        order by attempt_id desc limit ${page.limit}`);
    },
  };
}
