import type { Decider } from '../shared/decider.ts';
import type { WebhookCommand } from './commands.ts';
import { decideWebhook } from './decide.ts';
import type { WebhookEvent } from './events.ts';
import { evolveWebhook, initialWebhookState, type WebhookState } from './evolve.ts';

/** One stream per subscription; its events are tenant-scoped (platform topic, keyed by tenant). */
export const webhookStreamId = (webhookId: string): string => `webhook-${webhookId}`;

export const webhookDecider: Decider<WebhookCommand, WebhookEvent, WebhookState> = {
  initialState: initialWebhookState,
  decide: decideWebhook,
  evolve: evolveWebhook,
};

export * from './commands.ts';
export * from './events.ts';
export { decideWebhook, filterMatches, requireWebhookUrl } from './decide.ts';
export { evolveWebhook, initialWebhookState, type WebhookState } from './evolve.ts';
