import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';

/**
 * actorRole is the actor's role in tenantId, read by the caller from the membership stream; the
 * URL's addresses are checked by the caller too (DNS is I/O): decide checks its form only.
 */
const AdminFacts = { tenantId: Uuid(), actorId: Uuid(), actorRole: RoleSchema, now: Timestamp() };

export const SubscribeWebhookCommand = defineCommand('SubscribeWebhook', {
  ...AdminFacts,
  webhookId: Uuid(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
});
export type SubscribeWebhook = Static<typeof SubscribeWebhookCommand>;

export const UpdateWebhookCommand = defineCommand('UpdateWebhook', {
  ...AdminFacts,
  url: Type.Optional(Type.String()),
  events: Type.Optional(Type.Array(Type.String())),
  description: Type.Optional(Type.String()),
  enabled: Type.Optional(Type.Boolean()),
});
export type UpdateWebhook = Static<typeof UpdateWebhookCommand>;

export const RotateWebhookSecretCommand = defineCommand('RotateWebhookSecret', {
  ...AdminFacts,
  /** When the previous secret stops signing (now + the overlap, from configuration). */
  previousValidUntil: Timestamp(),
});
export type RotateWebhookSecret = Static<typeof RotateWebhookSecretCommand>;

/** From the delivery worker: the subscription's last `failedDeliveries` deliveries were all given up. */
export const DisableFailingWebhookCommand = defineCommand('DisableFailingWebhook', {
  tenantId: Uuid(),
  failedDeliveries: Type.Integer({ minimum: 1 }),
  actor: Type.String(),
  now: Timestamp(),
});
export type DisableFailingWebhook = Static<typeof DisableFailingWebhookCommand>;

export const RemoveWebhookCommand = defineCommand('RemoveWebhook', AdminFacts);
export type RemoveWebhook = Static<typeof RemoveWebhookCommand>;

export const WebhookCommandSchema = Type.Union([
  SubscribeWebhookCommand,
  UpdateWebhookCommand,
  RotateWebhookSecretCommand,
  DisableFailingWebhookCommand,
  RemoveWebhookCommand,
]);
export type WebhookCommand = Static<typeof WebhookCommandSchema>;
