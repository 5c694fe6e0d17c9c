// Webhooks end to end with a real HTTP receiver on 127.0.0.1: subscription routes and who may
// use them, signatures verified with the standardwebhooks library, per-subscription order,
// retries of 500s, timeouts and a receiver that is down for a while, pausing, secret rotation.
import t from 'tap';
import { createTestContext, eventually } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { after, eventsContaining, identity } from './support/identity-helpers.ts';
import { startReceiver, verify, type Received } from './support/webhook-receiver.ts';
import { messageIdOf } from '../projectors/webhooks/projection.ts';
import { PDF, uploadOk } from './support/document-helpers.ts';

const ctx = await createTestContext(t, {
  WEBHOOK_ALLOW_PRIVATE: 'loopback',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_RETRY_FIRST_DELAY_MS: '100',
  WEBHOOK_RETRY_MAX_DELAY_MS: '500',
  WEBHOOK_RETRY_WINDOW_MS: '60000',
});
const system = await startSystem(t, ctx);
const id = identity(system);
const { command, query } = id;

const admin = await id.registerAndLogin('admin@example.com');
const tenant = await id.createTenant(admin.token, 'hooked');
const base = `/api/tenants/${tenant.tenantId}/webhooks`;

async function subscribe(url: string, events: string[] = ['TenantRenamed'], token = admin.token) {
  const answer = await command('POST', base, { token, body: { url, events, description: 'test receiver' } });
  if (answer.status !== 201) throw new Error(`subscribe: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { id: string; secret: string; version: number; position: number };
}

let renames = 0;
/** A TenantRenamed event in the tenant; returns its position. */
async function rename(): Promise<number> {
  renames += 1;
  const answer = await command('PUT', `/api/tenants/${tenant.tenantId}`, { token: admin.token, body: { name: `Hooked ${renames}` } });
  if (answer.status !== 200) throw new Error(`rename: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.position as number;
}

const names = (requests: Received[]) => requests.filter((r) => r.json.type === 'TenantRenamed').map((r) => r.json.data.name as string);
/** The distinct messages, in the order they first arrived. */
const firstArrivals = (requests: Received[]) => requests.filter((r, i) => requests.findIndex((s) => s.id === r.id) === i);

t.test('subscribing: the secret is shown once, never listed, never on the log', async (t) => {
  const receiver = await startReceiver(t);
  const created = await subscribe(receiver.url, ['*']);
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'whsec_ + base64 of 32 bytes');
  t.equal(created.version, 1);
  const listed = await query('GET', base, { token: admin.token, headers: after(created.position) });
  t.equal(listed.status, 200);
  const mine = listed.body.items.find((w: any) => w.id === created.id);
  t.match(mine, { url: receiver.url, events: ['*'], description: 'test receiver', enabled: true, disabledReason: null, secretVersion: 1 });
  t.notOk(JSON.stringify(listed.body).includes(created.secret.slice(6, 20)), 'the list never holds the secret');
  const one = await query('GET', `${base}/${created.id}`, { token: admin.token });
  t.equal(one.status, 200);
  t.notOk(JSON.stringify(one.body).includes(created.secret.slice(6, 20)), 'neither does the webhook itself');
  t.same(await eventsContaining(ctx, created.secret.slice(6)), [], 'no event holds the secret');
  t.same(await eventsContaining(ctx, created.secret.slice(6, 20)), [], 'not even a piece of it');
  // The WebhookSubscribed event itself reaches the new "*" subscription, signed.
  const first = await eventually(async () => receiver.received[0]);
  t.equal(first.json.type, 'WebhookSubscribed');
  t.doesNotThrow(() => verify(created.secret, first), 'the library verifies the signature');
  t.equal((await command('DELETE', `${base}/${created.id}`, { token: admin.token })).status, 200);
});

t.test('bad subscriptions are refused with a code: scheme, event types, private addresses', async (t) => {
  const refused = async (url: string, events = ['*']) => {
    const answer = await command('POST', base, { token: admin.token, body: { url, events } });
    return [answer.status, answer.body?.error?.code];
  };
  t.same(await refused('ftp://127.0.0.1/x'), [400, 'INVALID_WEBHOOK_URL']);
  t.same(await refused('http://user:pw@127.0.0.1/x'), [400, 'INVALID_WEBHOOK_URL'], 'no credentials (they would be on the log)');
  t.same(await refused('http://127.0.0.1:9/x', ['DocumentExploded']), [400, 'UNKNOWN_EVENT_TYPE']);
  t.same(await refused('http://127.0.0.1:9/x', []), [400, 'VALIDATION_FAILED']);
  for (const url of [
    'http://10.1.2.3/hook',
    'http://192.168.1.10/hook',
    'https://172.16.0.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0:8080/',
    'http://224.0.0.1/',
    'http://[::ffff:10.0.0.1]/',
    'http://0x0a000001/',
  ]) {
    t.same(await refused(url), [422, 'WEBHOOK_URL_NOT_ALLOWED'], `${url} is refused (only loopback is allowed here)`);
  }
  const unnamed = await command('POST', base, { token: admin.token, body: { url: 'http://no-such-host.invalid/hook', events: ['*'] } });
  t.same([unnamed.status, unnamed.body.error.code], [422, 'WEBHOOK_HOST_UNRESOLVABLE']);
});

t.test('users and viewers get 403 on every webhook route, other tenants 404', async (t) => {
  const receiver = await startReceiver(t);
  const hook = await subscribe(receiver.url);
  const user = await id.registerAndLogin('user@example.com');
  const viewer = await id.registerAndLogin('viewer@example.com');
  await id.addMember(admin.token, tenant.tenantId, user, 'user');
  const added = await id.addMember(admin.token, tenant.tenantId, viewer, 'viewer');
  await query('GET', `/api/tenants/${tenant.tenantId}/users`, { token: admin.token, headers: after(added.position) });
  const outsider = await id.registerAndLogin('outsider@example.com');
  const elsewhere = await id.createTenant(outsider.token, 'elsewhere');
  const routes = (tenantId: string, webhookId: string) => [
    { call: command, method: 'POST', url: `/api/tenants/${tenantId}/webhooks`, body: { url: receiver.url, events: ['*'] } },
    { call: command, method: 'PUT', url: `/api/tenants/${tenantId}/webhooks/${webhookId}`, body: { enabled: false } },
    { call: command, method: 'POST', url: `/api/tenants/${tenantId}/webhooks/${webhookId}/rotate-secret` },
    { call: command, method: 'DELETE', url: `/api/tenants/${tenantId}/webhooks/${webhookId}` },
    { call: query, method: 'GET', url: `/api/tenants/${tenantId}/webhooks` },
    { call: query, method: 'GET', url: `/api/tenants/${tenantId}/webhooks/${webhookId}` },
    { call: query, method: 'GET', url: `/api/tenants/${tenantId}/webhooks/${webhookId}/deliveries` },
  ];
  for (const route of routes(tenant.tenantId, hook.id)) {
    const body = route.body === undefined ? {} : { body: route.body };
    t.equal((await route.call(route.method, route.url, { token: user.token, ...body })).status, 403, `user: ${route.method} ${route.url}`);
    t.equal((await route.call(route.method, route.url, { token: viewer.token, ...body })).status, 403, `viewer: ${route.method} ${route.url}`);
    const outside = await route.call(route.method, route.url, { token: outsider.token, ...body });
    t.same([outside.status, outside.body.error.code], [404, 'TENANT_NOT_FOUND'], `other tenant's admin: ${route.method} ${route.url}`);
  }
  // Another tenant's webhook through one's own tenant: as absent as one that never existed.
  const theirs = await query('GET', `/api/tenants/${elsewhere.tenantId}/webhooks`, { token: outsider.token });
  t.same([theirs.status, theirs.body.items], [200, []], "another tenant's list does not show it");
  for (const route of routes(elsewhere.tenantId, hook.id).filter((r) => r.url.includes(hook.id))) {
    const answer = await route.call(route.method, route.url, { token: outsider.token, ...(route.body ? { body: route.body } : {}) });
    t.same([answer.status, answer.body.error.code], [404, 'WEBHOOK_NOT_FOUND'], `foreign webhook id: ${route.method} ${route.url}`);
  }
  t.equal((await query('GET', base, { token: admin.token })).body.items.find((w: any) => w.id === hook.id)?.enabled, true, 'nothing changed it');
  t.equal((await command('DELETE', `${base}/${hook.id}`, { token: admin.token })).status, 200);
});

t.test("deliveries: signed, the public envelope, in the tenant's order, listed with their outcome", async (t) => {
  const receiver = await startReceiver(t);
  const hook = await subscribe(receiver.url);
  const positions: number[] = [];
  for (let i = 0; i < 6; i++) positions.push(await rename());
  await eventually(async () => (receiver.received.length >= 6 ? true : undefined));
  const expected = Array.from({ length: 6 }, (_, i) => `Hooked ${renames - 5 + i}`);
  t.same(names(receiver.received), expected, 'every event once, in order');
  for (const request of receiver.received) {
    t.doesNotThrow(() => verify(hook.secret, request), `${request.id} verifies`);
    t.equal(request.id, messageIdOf(request.json.eventId, hook.id), 'webhook-id: the event and the subscription');
    t.equal(request.headers['content-type'], 'application/json');
    t.same(
      Object.keys(request.json).sort(),
      ['actor', 'data', 'eventId', 'occurredAt', 'schemaVersion', 'streamId', 'streamVersion', 'tenantId', 'type'],
      'the public envelope, no internal fields',
    );
  }
  t.throws(() => verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, receiver.received[0]!), 'another secret does not verify');
  const tampered = { ...receiver.received[0]!, body: receiver.received[0]!.body.replace('Hooked', 'Hijacked') };
  t.throws(() => verify(hook.secret, tampered), 'a changed body does not verify');
  // The receiver may have answered before the worker recorded the last attempts.
  await eventually(async () => ((await query('GET', `${base}/${hook.id}/deliveries`, { token: admin.token })).body.items?.length === 6 ? true : undefined));
  const listed = await query('GET', `${base}/${hook.id}/deliveries?limit=4`, { token: admin.token });
  t.match(listed.body.items[0], { outcome: 'delivered', statusCode: 200, attempt: 1, eventType: 'TenantRenamed', error: null, responseBody: 'thanks' });
  t.ok(
    listed.body.items.every((a: any) => Number.isInteger(a.durationMs) && a.durationMs >= 0),
    'each attempt has its duration',
  );
  const next = await query('GET', `${base}/${hook.id}/deliveries?limit=4&before=${listed.body.nextBefore}`, { token: admin.token });
  t.equal(next.body.items.length, 2, 'the second page holds the rest');
  t.equal(next.body.nextBefore, null);
  await command('DELETE', `${base}/${hook.id}`, { token: admin.token });
});

t.test('an upload reaches a subscription to DocumentCreated, and only that event type', async (t) => {
  const receiver = await startReceiver(t);
  const hook = await subscribe(receiver.url, ['DocumentCreated']);
  await rename();
  const document = await uploadOk({ ctx, system, id }, admin.token, tenant.tenantId, { data: PDF('quarterly'), filename: 'q3.pdf', fields: { title: 'Q3' } });
  const request = await eventually(async () => receiver.received[0]);
  t.match(request.json, {
    type: 'DocumentCreated',
    tenantId: tenant.tenantId,
    actor: admin.userId,
    data: { documentId: document.id, filename: 'q3.pdf', title: 'Q3' },
  });
  t.doesNotThrow(() => verify(hook.secret, request));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(
    receiver.received.map((r) => r.json.type),
    ['DocumentCreated'],
    'no TenantRenamed, FileStored or DocumentAttached',
  );
  await command('DELETE', `${base}/${hook.id}`, { token: admin.token });
});

t.test('500s and timeouts are retried, and order holds behind them', async (t) => {
  // First a 500, then a hang past the 1 s timeout, then another 500; everything after succeeds.
  const receiver = await startReceiver(t, (_request, index) => (index === 0 || index === 2 ? 500 : index === 1 ? 'hang' : 200));
  const hook = await subscribe(receiver.url);
  for (let i = 0; i < 4; i++) await rename();
  const expected = Array.from({ length: 4 }, (_, i) => `Hooked ${renames - 3 + i}`);
  await eventually(async () => (firstArrivals(receiver.received).length >= 4 && names(receiver.received.slice(3)).length >= 4 ? true : undefined), {
    timeoutMs: 30_000,
  });
  t.same(names(receiver.received.slice(0, 3)), [expected[0], expected[0], expected[0]], 'the first event was tried three times before anything else');
  t.same(names(receiver.received.slice(3)), expected, 'then every event in order');
  const attempts = (await query('GET', `${base}/${hook.id}/deliveries`, { token: admin.token })).body.items.reverse();
  t.match(attempts.slice(0, 4), [
    { attempt: 1, outcome: 'retrying', statusCode: 500, error: 'HTTP 500' },
    { attempt: 2, outcome: 'retrying', statusCode: null, error: /timed out after 1000 ms/ },
    { attempt: 3, outcome: 'retrying', statusCode: 500 },
    { attempt: 4, outcome: 'delivered', statusCode: 200 },
  ]);
  t.equal(attempts[0].responseBody.length, 1024, 'a response body is kept up to 1 KiB');
  t.ok(attempts[1].durationMs >= 900, `the timed-out attempt lasted ${attempts[1].durationMs} ms`);
  await command('DELETE', `${base}/${hook.id}`, { token: admin.token });
});

t.test('a receiver down for a while gets every event afterwards, each webhook-id at least once', async (t) => {
  const receiver = await startReceiver(t);
  const hook = await subscribe(receiver.url);
  await receiver.close();
  const downSince = performance.now();
  for (let i = 0; i < 5; i++) await rename();
  const expected = Array.from({ length: 5 }, (_, i) => `Hooked ${renames - 4 + i}`);
  await eventually(
    async () => {
      const answer = await query('GET', `${base}/${hook.id}/deliveries`, { token: admin.token });
      return answer.body.items?.filter((a: any) => /ECONNREFUSED/.test(a.error ?? '')).length >= 3 ? true : undefined;
    },
    { timeoutMs: 20_000 },
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3000 - (performance.now() - downSince))));
  await receiver.open();
  t.comment(`receiver was down for ${Math.round(performance.now() - downSince)} ms`);
  await eventually(async () => (firstArrivals(receiver.received).length >= 5 ? true : undefined), { timeoutMs: 20_000 });
  t.same(names(firstArrivals(receiver.received)), expected, 'every event, in order');
  for (const request of receiver.received) t.doesNotThrow(() => verify(hook.secret, request));
  await command('DELETE', `${base}/${hook.id}`, { token: admin.token });
});

t.test('a paused subscription gets nothing; enabled again it gets what follows', async (t) => {
  const paused = await startReceiver(t);
  const witness = await startReceiver(t);
  const hook = await subscribe(paused.url);
  const other = await subscribe(witness.url);
  const off = await command('PUT', `${base}/${hook.id}`, { token: admin.token, body: { enabled: false } });
  t.equal(off.status, 200);
  const read = await query('GET', `${base}/${hook.id}`, { token: admin.token, headers: after(off.body.position) });
  t.match(read.body, { enabled: false, disabledReason: 'admin' });
  for (let i = 0; i < 3; i++) await rename();
  await eventually(async () => (witness.received.length >= 3 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(paused.received.length, 0, 'nothing reached the paused subscription while the other got all three');
  t.equal((await command('PUT', `${base}/${hook.id}`, { token: admin.token, body: { enabled: true } })).status, 200);
  const later = await rename();
  await eventually(async () => (paused.received.length >= 1 ? true : undefined));
  t.same(names(paused.received), [`Hooked ${renames}`], 'only the event after enabling');
  t.ok(later > 0);
  for (const h of [hook, other]) await command('DELETE', `${base}/${h.id}`, { token: admin.token });
});

t.test('rotating the secret: both secrets sign during the overlap; removed, nothing more arrives', async (t) => {
  const receiver = await startReceiver(t);
  const hook = await subscribe(receiver.url);
  const rotated = await command('POST', `${base}/${hook.id}/rotate-secret`, { token: admin.token });
  t.equal(rotated.status, 200);
  t.match(rotated.body, { id: hook.id, secret: /^whsec_/, version: 2 });
  t.not(rotated.body.secret, hook.secret);
  t.ok(Date.parse(rotated.body.previousSecretValidUntil) - Date.now() > 23 * 3600 * 1000, 'the old secret signs for another day');
  t.same(await eventsContaining(ctx, rotated.body.secret.slice(6)), [], 'the new secret is not on the log either');
  const read = await query('GET', `${base}/${hook.id}`, { token: admin.token, headers: after(rotated.body.position) });
  t.equal(read.body.secretVersion, 2);
  await rename();
  const request = await eventually(async () => receiver.received[0]);
  t.equal(request.signature.split(' ').length, 2, 'two signatures, space-separated');
  t.doesNotThrow(() => verify(rotated.body.secret, request), 'the new secret verifies');
  t.doesNotThrow(() => verify(hook.secret, request), 'and so does the old one');
  const removed = await command('DELETE', `${base}/${hook.id}`, { token: admin.token });
  t.equal(removed.status, 200);
  const gone = await query('GET', `${base}/${hook.id}`, { token: admin.token, headers: after(removed.body.position) });
  t.same([gone.status, gone.body.error.code], [404, 'WEBHOOK_NOT_FOUND']);
  await rename();
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(receiver.received.length, 1, 'nothing after the removal');
  t.equal((await command('DELETE', `${base}/${hook.id}`, { token: admin.token })).status, 404, 'removing twice: not found');
});
