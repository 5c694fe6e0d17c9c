import type { WebhookEvent } from './events.ts';

type Subscription = {
  webhookId: string;
  tenantId: string;
  url: string;
  events: readonly string[];
  description: string;
  secretVersion: number;
};

export type WebhookState =
  | { status: 'initial' }
  | ({ status: 'enabled' } & Subscription)
  | ({ status: 'disabled'; disabledReason: 'admin' | 'failures' } & Subscription)
  | { status: 'removed'; webhookId: string; tenantId: string };

export const initialWebhookState = (): WebhookState => ({ status: 'initial' });

export function evolveWebhook(state: WebhookState, event: WebhookEvent): WebhookState {
  switch (event.type) {
    case 'WebhookSubscribed': {
      const { webhookId, tenantId, url, events, description, secretVersion } = event.data;
      return { status: 'enabled', webhookId, tenantId, url, events, description, secretVersion };
    }
    case 'WebhookUpdated': {
      if (state.status !== 'enabled' && state.status !== 'disabled') return state;
      const { url, events, description } = event.data;
      return { ...state, url: url ?? state.url, events: events ?? state.events, description: description ?? state.description };
    }
    case 'WebhookSecretRotated':
      return state.status === 'enabled' || state.status === 'disabled' ? { ...state, secretVersion: event.data.secretVersion } : state;
    case 'WebhookDisabled':
      return state.status === 'enabled' ? { ...subscriptionOf(state), status: 'disabled', disabledReason: event.data.reason } : state;
    case 'WebhookEnabled':
      return state.status === 'disabled' ? { ...subscriptionOf(state), status: 'enabled' } : state;
    case 'WebhookRemoved':
      return { status: 'removed', webhookId: event.data.webhookId, tenantId: event.data.tenantId };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function subscriptionOf(state: Subscription): Subscription {
  const { webhookId, tenantId, url, events, description, secretVersion } = state;
  return { webhookId, tenantId, url, events, description, secretVersion };
}
