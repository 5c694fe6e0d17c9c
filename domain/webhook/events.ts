import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

/** Event type names, or ["*"] for every event of the tenant. */
export const WebhookEventFilter = () => Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 });
const WebhookUrl = () => Type.String({ minLength: 1, maxLength: 2000 });
const Description = () => Type.String({ maxLength: 500 });
/**
 * The signing secret itself never appears on the log (audit consumers read everything): events
 * carry its version only; the secret lives in the write-side table webhook_secrets.
 */
const SecretVersion = () => Type.Integer({ minimum: 1 });

export const WebhookSubscribedEvent = defineEvent('WebhookSubscribed', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  url: WebhookUrl(),
  events: WebhookEventFilter(),
  description: Description(),
  secretVersion: SecretVersion(),
  subscribedBy: Uuid(),
  subscribedAt: Timestamp(),
});
export type WebhookSubscribed = Static<typeof WebhookSubscribedEvent>;

/** Only the changed fields. */
export const WebhookUpdatedEvent = defineEvent('WebhookUpdated', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  url: Type.Optional(WebhookUrl()),
  events: Type.Optional(WebhookEventFilter()),
  description: Type.Optional(Description()),
  updatedBy: Uuid(),
  updatedAt: Timestamp(),
});
export type WebhookUpdated = Static<typeof WebhookUpdatedEvent>;

export const WebhookSecretRotatedEvent = defineEvent('WebhookSecretRotated', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  secretVersion: SecretVersion(),
  /** Until then the previous secret keeps signing beside the new one. */
  previousValidUntil: Timestamp(),
  rotatedBy: Uuid(),
  rotatedAt: Timestamp(),
});
export type WebhookSecretRotated = Static<typeof WebhookSecretRotatedEvent>;

export const WebhookDisabledReason = Type.Union([Type.Literal('admin'), Type.Literal('failures')]);

/** By an admin (disabledBy is a user id), or by the delivery worker after a run of failed deliveries. */
export const WebhookDisabledEvent = defineEvent('WebhookDisabled', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  reason: WebhookDisabledReason,
  failedDeliveries: Type.Optional(Type.Integer({ minimum: 1 })),
  disabledBy: Type.String({ minLength: 1, maxLength: 100 }),
  disabledAt: Timestamp(),
});
export type WebhookDisabled = Static<typeof WebhookDisabledEvent>;

export const WebhookEnabledEvent = defineEvent('WebhookEnabled', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  enabledBy: Uuid(),
  enabledAt: Timestamp(),
});
export type WebhookEnabled = Static<typeof WebhookEnabledEvent>;

export const WebhookRemovedEvent = defineEvent('WebhookRemoved', {
  webhookId: Uuid(),
  tenantId: Uuid(),
  removedBy: Uuid(),
  removedAt: Timestamp(),
});
export type WebhookRemoved = Static<typeof WebhookRemovedEvent>;

export const WebhookEventSchema = Type.Union([
  WebhookSubscribedEvent,
  WebhookUpdatedEvent,
  WebhookSecretRotatedEvent,
  WebhookDisabledEvent,
  WebhookEnabledEvent,
  WebhookRemovedEvent,
]);
export type WebhookEvent = Static<typeof WebhookEventSchema>;
