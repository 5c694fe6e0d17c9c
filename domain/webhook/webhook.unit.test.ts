import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import type { Role } from '../shared/roles.ts';
import { filterMatches, requireWebhookUrl, webhookDecider, webhookStreamId, type WebhookCommand, type WebhookEvent } from './index.ts';

const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const otherTenant = '4fa85f64-5717-4562-b3fc-2c963f66afa7';
const webhookId = 'b00c0000-0000-4000-8000-000000000001';
const admin = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const now = '2026-01-02T03:04:05.000Z';
const later = '2026-01-03T03:04:05.000Z';
const ids = { webhookId, tenantId };

const facts = (actorRole: Role = 'admin', tenant = tenantId) => ({ tenantId: tenant, actorId: admin, actorRole, now });
const subscribe = (fields: Partial<{ url: string; events: string[]; description: string }> = {}, role: Role = 'admin'): WebhookCommand => ({
  type: 'SubscribeWebhook',
  data: { ...facts(role), webhookId, url: 'https://hooks.example.com/in', events: ['DocumentCreated'], description: '', ...fields },
});
const update = (
  fields: Partial<{ url: string; events: string[]; description: string; enabled: boolean }>,
  role: Role = 'admin',
  tenant = tenantId,
): WebhookCommand => ({
  type: 'UpdateWebhook',
  data: { ...facts(role, tenant), ...fields },
});
const subscribed: WebhookEvent = {
  type: 'WebhookSubscribed',
  data: { ...ids, url: 'https://hooks.example.com/in', events: ['DocumentCreated'], description: '', secretVersion: 1, subscribedBy: admin, subscribedAt: now },
};
const disabledByAdmin: WebhookEvent = { type: 'WebhookDisabled', data: { ...ids, reason: 'admin', disabledBy: admin, disabledAt: now } };
const removed: WebhookEvent = { type: 'WebhookRemoved', data: { ...ids, removedBy: admin, removedAt: now } };

t.test('stream id', async (t) => {
  t.equal(webhookStreamId(webhookId), `webhook-${webhookId}`);
});

t.test('SubscribeWebhook', async (t) => {
  t.test('an admin subscribes; the event carries the secret version, never a secret', async (t) => {
    given(webhookDecider, []).when(subscribe()).then(t, [subscribed]);
  });
  t.test('"*" takes every event; types are deduplicated and sorted; the description is trimmed', async (t) => {
    const [star] = webhookDecider.decide(subscribe({ events: ['*'] }), webhookDecider.initialState());
    t.same(star?.data, { ...subscribed.data, events: ['*'] });
    const [many] = webhookDecider.decide(
      subscribe({ events: ['TenantRenamed', 'DocumentCreated', 'TenantRenamed'], description: '  mine ' }),
      webhookDecider.initialState(),
    );
    t.match(many?.data, { events: ['DocumentCreated', 'TenantRenamed'], description: 'mine' });
  });
  t.test('users and viewers cannot', async (t) => {
    given(webhookDecider, []).when(subscribe({}, 'user')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(webhookDecider, []).when(subscribe({}, 'viewer')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('bad URLs are refused', async (t) => {
    for (const url of [
      'ftp://example.com/x',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      'https://user:pw@example.com/',
      'https://example.com/#frag',
      `https://example.com/${'a'.repeat(2000)}`,
    ]) {
      given(webhookDecider, []).when(subscribe({ url })).thenThrows(t, 'INVALID_WEBHOOK_URL', ValidationError);
    }
  });
  t.test('bad event filters are refused', async (t) => {
    given(webhookDecider, [])
      .when(subscribe({ events: [] }))
      .thenThrows(t, 'INVALID_EVENT_FILTER', ValidationError);
    given(webhookDecider, [])
      .when(subscribe({ events: ['*', 'DocumentCreated'] }))
      .thenThrows(t, 'INVALID_EVENT_FILTER', ValidationError);
    given(webhookDecider, [])
      .when(subscribe({ events: ['DocumentExploded'] }))
      .thenThrows(t, 'UNKNOWN_EVENT_TYPE', ValidationError);
    given(webhookDecider, [])
      .when(subscribe({ events: ['toString'] }))
      .thenThrows(t, 'UNKNOWN_EVENT_TYPE', ValidationError);
  });
  t.test('a too long description is refused', async (t) => {
    given(webhookDecider, [])
      .when(subscribe({ description: 'x'.repeat(501) }))
      .thenThrows(t, 'INVALID_DESCRIPTION', ValidationError);
  });
});

t.test('UpdateWebhook', async (t) => {
  t.test('only the changed fields are published', async (t) => {
    given(webhookDecider, [subscribed])
      .when(update({ url: 'https://hooks.example.com/in', events: ['TenantRenamed'] }))
      .then(t, [{ type: 'WebhookUpdated', data: { ...ids, events: ['TenantRenamed'], updatedBy: admin, updatedAt: now } }]);
  });
  t.test('nothing changed, nothing appended', async (t) => {
    given(webhookDecider, [subscribed])
      .when(update({ url: 'https://hooks.example.com/in', enabled: true }))
      .then(t, []);
  });
  t.test('enabled: false disables, enabled: true enables again', async (t) => {
    given(webhookDecider, [subscribed])
      .when(update({ enabled: false }))
      .then(t, [disabledByAdmin]);
    given(webhookDecider, [subscribed, disabledByAdmin])
      .when(update({ enabled: true }))
      .then(t, [{ type: 'WebhookEnabled', data: { ...ids, enabledBy: admin, enabledAt: now } }]);
    given(webhookDecider, [subscribed, disabledByAdmin]).thenState(t, {
      status: 'disabled',
      disabledReason: 'admin',
      ...ids,
      url: 'https://hooks.example.com/in',
      events: ['DocumentCreated'],
      description: '',
      secretVersion: 1,
    });
  });
  t.test('a removed webhook, or one of another tenant, is not found', async (t) => {
    given(webhookDecider, [subscribed, removed])
      .when(update({ enabled: false }))
      .thenThrows(t, 'WEBHOOK_NOT_FOUND', NotFoundError);
    given(webhookDecider, [subscribed])
      .when(update({ enabled: false }, 'admin', otherTenant))
      .thenThrows(t, 'WEBHOOK_NOT_FOUND', NotFoundError);
    given(webhookDecider, [])
      .when(update({ enabled: false }))
      .thenThrows(t, 'WEBHOOK_NOT_FOUND', NotFoundError);
  });
  t.test('users cannot', async (t) => {
    given(webhookDecider, [subscribed])
      .when(update({ enabled: false }, 'user'))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
});

t.test('RotateWebhookSecret', async (t) => {
  const rotate = (role: Role = 'admin'): WebhookCommand => ({ type: 'RotateWebhookSecret', data: { ...facts(role), previousValidUntil: later } });
  const rotated = (secretVersion: number): WebhookEvent => ({
    type: 'WebhookSecretRotated',
    data: { ...ids, secretVersion, previousValidUntil: later, rotatedBy: admin, rotatedAt: now },
  });
  t.test('each rotation is the next secret version', async (t) => {
    given(webhookDecider, [subscribed])
      .when(rotate())
      .then(t, [rotated(2)]);
    given(webhookDecider, [subscribed, rotated(2)])
      .when(rotate())
      .then(t, [rotated(3)]);
  });
  t.test('viewers cannot', async (t) => {
    given(webhookDecider, [subscribed]).when(rotate('viewer')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
});

t.test('DisableFailingWebhook (the delivery worker)', async (t) => {
  const disableFailing: WebhookCommand = { type: 'DisableFailingWebhook', data: { tenantId, failedDeliveries: 3, actor: 'system:webhooks', now } };
  t.test('disables an enabled webhook', async (t) => {
    given(webhookDecider, [subscribed])
      .when(disableFailing)
      .then(t, [{ type: 'WebhookDisabled', data: { ...ids, reason: 'failures', failedDeliveries: 3, disabledBy: 'system:webhooks', disabledAt: now } }]);
  });
  t.test('a webhook already disabled or removed: nothing to do', async (t) => {
    given(webhookDecider, [subscribed, disabledByAdmin]).when(disableFailing).then(t, []);
    given(webhookDecider, [subscribed, removed]).when(disableFailing).then(t, []);
    given(webhookDecider, []).when(disableFailing).then(t, []);
  });
});

t.test('RemoveWebhook', async (t) => {
  const remove = (role: Role = 'admin'): WebhookCommand => ({ type: 'RemoveWebhook', data: facts(role) });
  given(webhookDecider, [subscribed]).when(remove()).then(t, [removed]);
  given(webhookDecider, [subscribed, disabledByAdmin]).when(remove()).then(t, [removed]);
  given(webhookDecider, [subscribed, removed]).when(remove()).thenThrows(t, 'WEBHOOK_NOT_FOUND', NotFoundError);
  given(webhookDecider, [subscribed]).when(remove('user')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
});

t.test('helpers', async (t) => {
  t.equal(requireWebhookUrl('HTTPS://Hooks.Example.com:443/a?b=1'), 'https://hooks.example.com/a?b=1', 'normalised');
  t.ok(filterMatches(['*'], 'TenantRenamed'));
  t.ok(filterMatches(['TenantRenamed'], 'TenantRenamed'));
  t.notOk(filterMatches(['DocumentCreated'], 'TenantRenamed'));
});
