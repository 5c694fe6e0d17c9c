import { isDomainEventType } from '../events.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { canManageTenant, type Role } from '../shared/roles.ts';
import type { DisableFailingWebhook, RemoveWebhook, RotateWebhookSecret, SubscribeWebhook, UpdateWebhook, WebhookCommand } from './commands.ts';
import type { WebhookEvent, WebhookUpdated } from './events.ts';
import type { WebhookState } from './evolve.ts';

type LiveWebhook = Extract<WebhookState, { status: 'enabled' | 'disabled' }>;

const MAX_URL_LENGTH = 2000;
const MAX_DESCRIPTION_LENGTH = 500;
const MAX_EVENT_TYPES = 100;

export function decideWebhook(command: WebhookCommand, state: WebhookState): WebhookEvent[] {
  switch (command.type) {
    case 'SubscribeWebhook':
      return subscribe(command, state);
    case 'UpdateWebhook':
      return update(command, requireLive(state, command.data.tenantId));
    case 'RotateWebhookSecret':
      return rotateSecret(command, requireLive(state, command.data.tenantId));
    case 'DisableFailingWebhook':
      return disableFailing(command, state);
    case 'RemoveWebhook':
      return remove(command, requireLive(state, command.data.tenantId));
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function subscribe({ data }: SubscribeWebhook, state: WebhookState): WebhookEvent[] {
  requireAdmin(data.actorRole);
  if (state.status !== 'initial') throw new ConflictError('WEBHOOK_EXISTS', 'this webhook already exists');
  return [
    {
      type: 'WebhookSubscribed',
      data: {
        webhookId: data.webhookId,
        tenantId: data.tenantId,
        url: requireWebhookUrl(data.url),
        events: requireEventFilter(data.events),
        description: requireDescription(data.description),
        secretVersion: 1,
        subscribedBy: data.actorId,
        subscribedAt: data.now,
      },
    },
  ];
}

/** Emits only what changes: an update that changes nothing appends nothing. */
function update({ data }: UpdateWebhook, webhook: LiveWebhook): WebhookEvent[] {
  requireAdmin(data.actorRole);
  const changes: Pick<WebhookUpdated['data'], 'url' | 'events' | 'description'> = {};
  if (data.url !== undefined) {
    const url = requireWebhookUrl(data.url);
    if (url !== webhook.url) changes.url = url;
  }
  if (data.events !== undefined) {
    const events = requireEventFilter(data.events);
    if (events.join(',') !== webhook.events.join(',')) changes.events = events;
  }
  if (data.description !== undefined) {
    const description = requireDescription(data.description);
    if (description !== webhook.description) changes.description = description;
  }
  const ids = { webhookId: webhook.webhookId, tenantId: webhook.tenantId };
  const events: WebhookEvent[] = [];
  if (Object.keys(changes).length > 0) {
    events.push({ type: 'WebhookUpdated', data: { ...ids, ...changes, updatedBy: data.actorId, updatedAt: data.now } });
  }
  if (data.enabled === true && webhook.status === 'disabled') {
    events.push({ type: 'WebhookEnabled', data: { ...ids, enabledBy: data.actorId, enabledAt: data.now } });
  }
  if (data.enabled === false && webhook.status === 'enabled') {
    events.push({ type: 'WebhookDisabled', data: { ...ids, reason: 'admin', disabledBy: data.actorId, disabledAt: data.now } });
  }
  return events;
}

function rotateSecret({ data }: RotateWebhookSecret, webhook: LiveWebhook): WebhookEvent[] {
  requireAdmin(data.actorRole);
  return [
    {
      type: 'WebhookSecretRotated',
      data: {
        webhookId: webhook.webhookId,
        tenantId: webhook.tenantId,
        secretVersion: webhook.secretVersion + 1,
        previousValidUntil: data.previousValidUntil,
        rotatedBy: data.actorId,
        rotatedAt: data.now,
      },
    },
  ];
}

/** The worker may report twice, or after an admin acted: only an enabled webhook gets disabled. */
function disableFailing({ data }: DisableFailingWebhook, state: WebhookState): WebhookEvent[] {
  if (state.status !== 'enabled' || state.tenantId !== data.tenantId) return [];
  return [
    {
      type: 'WebhookDisabled',
      data: {
        webhookId: state.webhookId,
        tenantId: state.tenantId,
        reason: 'failures',
        failedDeliveries: data.failedDeliveries,
        disabledBy: data.actor,
        disabledAt: data.now,
      },
    },
  ];
}

function remove({ data }: RemoveWebhook, webhook: LiveWebhook): WebhookEvent[] {
  requireAdmin(data.actorRole);
  return [{ type: 'WebhookRemoved', data: { webhookId: webhook.webhookId, tenantId: webhook.tenantId, removedBy: data.actorId, removedAt: data.now } }];
}

/** Another tenant's webhook is as absent as a removed one: nothing leaks across tenants. */
function requireLive(state: WebhookState, tenantId: string): LiveWebhook {
  if ((state.status === 'enabled' || state.status === 'disabled') && state.tenantId === tenantId) return state;
  throw new NotFoundError('WEBHOOK_NOT_FOUND', 'no such webhook in this tenant');
}

function requireAdmin(role: Role): void {
  if (!canManageTenant(role)) throw new ForbiddenError('FORBIDDEN', 'only a tenant admin can manage webhooks');
}

/**
 * http or https, a host, no credentials (the URL is published on the log), no fragment.
 * Whether the host's addresses are public is checked by the caller, and again at each delivery.
 */
export function requireWebhookUrl(text: string): string {
  const invalid = (why: string) => new ValidationError('INVALID_WEBHOOK_URL', `url ${why}`);
  if (text.length > MAX_URL_LENGTH) throw invalid(`must be at most ${MAX_URL_LENGTH} characters long`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('must use http or https');
  if (url.hostname === '') throw invalid('must name a host');
  if (url.username !== '' || url.password !== '') throw invalid('must not carry credentials (they would be published on the event log)');
  if (url.hash !== '') throw invalid('must not have a fragment');
  return url.toString();
}

function requireEventFilter(events: readonly string[]): string[] {
  if (events.length === 0 || events.length > MAX_EVENT_TYPES) {
    throw new ValidationError('INVALID_EVENT_FILTER', `events must list 1 to ${MAX_EVENT_TYPES} event types, or ["*"]`);
  }
  if (events.includes('*')) {
    if (events.length > 1) throw new ValidationError('INVALID_EVENT_FILTER', '"*" stands alone: it already means every event');
    return ['*'];
  }
  const unknown = events.filter((type) => !isDomainEventType(type));
  if (unknown.length > 0) throw new ValidationError('UNKNOWN_EVENT_TYPE', `unknown event types: ${unknown.join(', ')}`);
  return [...new Set(events)].sort();
}

function requireDescription(text: string): string {
  const trimmed = text.trim();
  if ([...trimmed].length > MAX_DESCRIPTION_LENGTH) {
    throw new ValidationError('INVALID_DESCRIPTION', `description must be at most ${MAX_DESCRIPTION_LENGTH} characters long`);
  }
  return trimmed;
}

/** Does a subscription's filter take this event type? */
export function filterMatches(events: readonly string[], type: string): boolean {
  return events.includes('*') || events.includes(type);
}
