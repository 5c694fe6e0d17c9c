// Notifications end to end with the real services and the real Mailpit: in-app notifications
// per user (list, cursor, unread, mark read as a command), email per kind with opt-out, HTML
// escaping of user text, the webhook-disabled notice to a tenant's admins, and isolation.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { after, eventually, PDF, startDocumentSystem, uploadOk } from './support/document-helpers.ts';
import { mailTo, waitForMail } from './support/mailpit.ts';
import { appendToStreams } from '../core/eventing/event-store.ts';
import { domainEventRegistry } from '../core/eventing/event-registry.ts';
import { sql } from '../core/adapters/db.ts';
import { startMailer } from '../projectors/notifications/mailer.ts';
import { notificationId } from '../projectors/notifications/projection.ts';

const s = await startDocumentSystem(t);
const { ctx, system, id } = s;
const { command, query } = id;
const mailer = startMailer({
  pool: system.services.pool,
  smtpUrl: system.services.config.SMTP_URL,
  from: system.services.config.SMTP_FROM,
  logger: ctx.logger,
  metrics: system.services.metrics,
  pollMs: 100,
  leaseMs: 30_000,
});
t.teardown(() => mailer.stop());

const slug = `n${ctx.id}`.slice(0, 30);
const email = (who: string) => `${who}-${ctx.id}@example.com`;
const ada = await id.registerAndLogin(email('ada'));
const bob = await id.registerAndLogin(email('bob'));
const carol = await id.registerAndLogin(email('carol'));
const mallory = await id.registerAndLogin(email('mallory'));
const TENANT_NAME = 'Acme <b>&co</b>';
const tenant = await id.createTenant(ada.token, slug, { name: TENANT_NAME });

type Item = { id: string; kind: string; tenantId: string; message: string; data: Record<string, unknown>; position: number; read: boolean };
async function notificationsOf(token: string, params = '', position?: number): Promise<{ items: Item[]; nextCursor: string | null; unreadCount: number }> {
  const answer = await query('GET', `/api/users/me/notifications${params}`, { token, ...(position ? { headers: after(position) } : {}) });
  if (answer.status !== 200) throw new Error(`notifications: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

t.test('Carol turns every email off before anything happens to her; the query API reads it back', async (t) => {
  const off = { 'member-added': false, 'member-role-changed': false, 'member-removed': false, 'document-uploaded': false, 'webhook-disabled': false };
  const answer = await command('PUT', '/api/users/me/notification-preferences', { token: carol.token, body: { email: off } });
  t.equal(answer.status, 200, JSON.stringify(answer.body));
  const read = await query('GET', '/api/users/me/notification-preferences', { token: carol.token, headers: after(answer.body.position) });
  t.same(read.body, { email: off });
  const again = await command('PUT', '/api/users/me/notification-preferences', { token: carol.token, body: { email: { 'member-added': false } } });
  t.equal(again.status, 200, 'setting what is already set is accepted (and appends nothing)');
  const bobs = await query('GET', '/api/users/me/notification-preferences', { token: bob.token });
  t.same(bobs.body.email['member-added'], true, 'email is on by default');
});

t.test('members added, promoted, removed: each is told, in-app and by email', async (t) => {
  const started = performance.now();
  await id.addMember(ada.token, tenant.tenantId, bob, 'user');
  const [firstMail] = await waitForMail(bob.email);
  t.comment(`command answered to email in Mailpit: ${Math.round(performance.now() - started)} ms (first: ${firstMail?.Subject})`);
  await id.addMember(ada.token, tenant.tenantId, carol, 'viewer');
  const promoted = await command('PUT', `/api/tenants/${tenant.tenantId}/users/${bob.userId}`, { token: ada.token, body: { role: 'admin' } });
  t.equal(promoted.status, 200);
  const removed = await command('DELETE', `/api/tenants/${tenant.tenantId}/users/${carol.userId}`, { token: ada.token });
  t.equal(removed.status, 200);

  const bobs = await notificationsOf(bob.token, '', removed.body.position);
  t.same(
    bobs.items.map((n) => n.kind),
    ['member-role-changed', 'member-added'],
    'Bob: newest first',
  );
  t.equal(bobs.unreadCount, 2);
  t.equal(bobs.items[1]?.message, `${ada.email.split('@')[0]} added you to "${TENANT_NAME}" as user`);
  t.same(bobs.items[0]?.data, {
    kind: 'member-role-changed',
    tenantId: tenant.tenantId,
    tenantName: TENANT_NAME,
    role: 'admin',
    previousRole: 'user',
    by: ada.email.split('@')[0],
  });
  const carols = await notificationsOf(carol.token);
  t.same(
    carols.items.map((n) => n.kind),
    ['member-removed', 'member-added'],
    'Carol is told in-app although her email is off',
  );
  t.same((await notificationsOf(ada.token)).items, [], 'Ada did it all herself: nothing for her (founding included)');

  const mails = await waitForMail(bob.email, 2);
  const added = mails.find((m) => /added you to/.test(m.Subject));
  t.ok(added, 'Bob got the "added" email');
  t.same(
    added?.To.map((to) => to.Address),
    [bob.email],
    'to Bob alone',
  );
  t.equal(added?.Subject, `[Ledgerline] ${bobs.items[1]?.message}`);
  t.match(added?.Text ?? '', `Tenant: ${TENANT_NAME}`, 'the plain-text part names the tenant as typed');
  t.match(added?.HTML ?? '', 'Acme &lt;b&gt;&amp;co&lt;/b&gt;', 'the HTML part escapes it');
  t.notMatch(added?.HTML ?? '', '<b>&co</b>', 'no user HTML in the email');
  t.equal(added?.MessageID, `${bobs.items[1]?.id}@notifications.ledgerline`, 'the Message-ID is derived from the notification id');
  t.ok(
    mails.some((m) => /changed your role/.test(m.Subject)),
    'and the role change',
  );
});

t.test('a document upload tells the tenant admins except the uploader', async (t) => {
  const doc = await uploadOk(s, bob.token, tenant.tenantId, {
    data: PDF(`q3 ${ctx.id}`),
    filename: 'q3.pdf',
    fields: { title: '<script>alert(1)</script> Q3' },
  });
  const adas = await notificationsOf(ada.token, '', doc.position);
  t.same(
    adas.items.map((n) => n.kind),
    ['document-uploaded'],
    'Ada (admin) is told',
  );
  t.equal(adas.items[0]?.data.documentId, doc.id);
  t.equal(adas.items[0]?.id, notificationId(await eventId('DocumentCreated', doc.position), ada.userId), 'id derived from event and recipient');
  t.notOk(
    (await notificationsOf(bob.token)).items.some((n) => n.kind === 'document-uploaded'),
    'Bob, the uploader and now an admin, is not',
  );
  const [mail] = await waitForMail(ada.email);
  t.match(mail?.Subject ?? '', /uploaded "<script>alert\(1\)<\/script> Q3"/, 'the subject is plain text');
  t.match(mail?.HTML ?? '', '&lt;script&gt;alert(1)&lt;/script&gt; Q3', 'the HTML escapes the title');
  t.notMatch(mail?.HTML ?? '', '<script>', 'no script tag reaches the HTML');
});

t.test('a disabled webhook tells the admins of its tenant (but not the admin who disabled it)', async (t) => {
  // WebhookDisabled belongs to the webhooks aggregate; appended here with the shape it publishes
  // (platform category, tenant-scoped; reason 'failures' by the worker or 'admin' by a user).
  const registry = (type: string) => (type === 'WebhookDisabled' ? { schemaVersion: 1, category: 'platform' } : domainEventRegistry(type));
  const disable = (webhookId: string, data: Record<string, unknown>) =>
    ctx.pool.transaction((tx) =>
      appendToStreams(
        tx,
        [
          {
            streamId: `webhook-${webhookId}`,
            expectedVersion: 'any',
            events: [{ type: 'WebhookDisabled', data: { webhookId, tenantId: tenant.tenantId, disabledAt: new Date().toISOString(), ...data } }],
          },
        ],
        { tenantId: tenant.tenantId, actor: 'system:webhooks', correlationId: randomUUID(), causationId: null, occurredAt: new Date() },
        registry,
        system.services.topicOf,
      ),
    );
  const failing = randomUUID();
  const byWorker = await disable(failing, { reason: 'failures', failedDeliveries: 10, disabledBy: 'system:webhooks' });
  for (const admin of [ada, bob]) {
    const items = (await notificationsOf(admin.token, '', byWorker.lastPosition)).items.filter((n) => n.kind === 'webhook-disabled');
    t.equal(items.length, 1, `${admin.email} is told`);
    t.equal(items[0]?.message, `A webhook of "${TENANT_NAME}" was disabled after 10 failed deliveries`);
    t.same(items[0]?.data, {
      kind: 'webhook-disabled',
      tenantId: tenant.tenantId,
      tenantName: TENANT_NAME,
      webhookId: failing,
      reason: 'failures',
      failedDeliveries: 10,
      by: null,
    });
  }
  const mails = await waitForMail(ada.email, 2);
  t.ok(
    mails.some((m) => m.Subject.includes('webhook') && m.Text.includes(failing) && m.Text.includes('10 failed deliveries in a row')),
    'by email too',
  );

  const paused = randomUUID();
  const byBob = await disable(paused, { reason: 'admin', disabledBy: bob.userId });
  const adas = (await notificationsOf(ada.token, '', byBob.lastPosition)).items.filter((n) => n.data.webhookId === paused);
  t.equal(adas[0]?.message, `${bob.email.split('@')[0]} disabled a webhook of "${TENANT_NAME}"`, 'Ada is told Bob paused one');
  t.same(
    (await notificationsOf(bob.token)).items.filter((n) => n.data.webhookId === paused),
    [],
    'Bob, who did it, is not',
  );
});

t.test('opted-out users get no email at all', async (t) => {
  await eventually(async () => Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from email_outbox where status <> 'sent'`)) === 0 || undefined);
  t.equal((await mailTo(carol.email)).length, 0, 'nothing reached Carol');
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from email_outbox where recipient = ${carol.email}`)),
    0,
    'nothing was even queued for her',
  );
  t.ok((await mailTo(bob.email)).length >= 2, 'while the others got theirs');
});

t.test('paging, unread filter and marking read (a command)', async (t) => {
  const first = await notificationsOf(bob.token, '?limit=1');
  t.equal(first.items.length, 1);
  t.ok(first.nextCursor, 'a cursor to the next page');
  const second = await notificationsOf(bob.token, `?limit=1&cursor=${first.nextCursor}`);
  t.equal(second.items.length, 1);
  t.ok(second.items[0]!.position < first.items[0]!.position, 'older on the next page');
  const all = await notificationsOf(bob.token);
  t.equal(all.items.length, 3, 'added, promoted, webhook');
  t.equal(all.unreadCount, 3);

  const oldest = all.items.at(-1)!;
  const byId = await command('POST', '/api/users/me/notifications/read', { token: bob.token, body: { ids: [oldest.id] } });
  t.equal(byId.status, 200, JSON.stringify(byId.body));
  const unread = await notificationsOf(bob.token, '?unread=true', byId.body.position);
  t.same(
    unread.items.map((n) => n.id),
    all.items.slice(0, 2).map((n) => n.id),
    'unread=true leaves out the one read',
  );
  t.equal(unread.unreadCount, 2);
  t.equal((await notificationsOf(bob.token)).items.find((n) => n.id === oldest.id)?.read, true);

  const upTo = await command('POST', '/api/users/me/notifications/read', { token: bob.token, body: { upToPosition: all.items[0]!.position } });
  t.equal(upTo.status, 200);
  const none = await notificationsOf(bob.token, '?unread=true', upTo.body.position);
  t.same(none.items, [], 'all read up to the newest');
  t.equal(none.unreadCount, 0);
  const repeat = await command('POST', '/api/users/me/notifications/read', { token: bob.token, body: { upToPosition: all.items[1]!.position } });
  t.equal(repeat.status, 200, 'marking an older position again is accepted (nothing to do)');
});

t.test("nobody reads or marks another user's notifications", async (t) => {
  const adas = await notificationsOf(ada.token);
  t.same((await notificationsOf(mallory.token)).items, [], "Mallory's list is hers alone (empty)");
  const marked = await command('POST', '/api/users/me/notifications/read', { token: mallory.token, body: { ids: adas.items.map((n) => n.id) } });
  t.equal(marked.status, 200, 'ids that are not hers mark nothing...');
  const after_ = await notificationsOf(ada.token, '', marked.body.position);
  t.equal(after_.unreadCount, adas.unreadCount, "...and Ada's stay unread");
  for (const [method, url] of [
    ['GET', '/api/users/me/notifications'],
    ['GET', '/api/users/me/notification-preferences'],
  ] as const) {
    t.equal((await query(method, url)).status, 401, `${url} without a token: 401`);
  }
  t.equal((await command('POST', '/api/users/me/notifications/read', { body: { ids: [] } })).status, 401);
  t.equal((await command('PUT', '/api/users/me/notification-preferences', { body: { email: { 'member-added': true } } })).status, 401);
});

t.test('bad input answers 4xx with the error shape', async (t) => {
  const cases: [string, 'command' | 'query', string, string, unknown, string][] = [
    ['nothing to mark', 'command', 'POST', '/api/users/me/notifications/read', {}, 'NOTHING_TO_MARK'],
    ['ids not uuids', 'command', 'POST', '/api/users/me/notifications/read', { ids: ['x'] }, 'VALIDATION_FAILED'],
    ['position 0', 'command', 'POST', '/api/users/me/notifications/read', { upToPosition: 0 }, 'VALIDATION_FAILED'],
    ['empty preferences', 'command', 'PUT', '/api/users/me/notification-preferences', { email: {} }, 'VALIDATION_FAILED'],
    ['unknown kind', 'command', 'PUT', '/api/users/me/notification-preferences', { email: { spam: false } }, 'VALIDATION_FAILED'],
    ['not a boolean', 'command', 'PUT', '/api/users/me/notification-preferences', { email: { 'member-added': 'no' } }, 'VALIDATION_FAILED'],
    ['bad cursor', 'query', 'GET', '/api/users/me/notifications?cursor=bm9wZQ', undefined, 'INVALID_CURSOR'],
    ['limit too big', 'query', 'GET', '/api/users/me/notifications?limit=1000', undefined, 'VALIDATION_FAILED'],
  ];
  for (const [what, side, method, url, body, code] of cases) {
    const send = side === 'command' ? command : query;
    const answer = await send(method, url, { token: bob.token, ...(body === undefined ? {} : { body }) });
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(answer.body?.error?.code, code, `${what}: ${code}`);
  }
});

async function eventId(type: string, position: number): Promise<string> {
  return String(
    await ctx.pool.oneFirst(sql.unsafe`
    select event_id from events where type = ${type} and global_position <= ${position} order by global_position desc limit 1`),
  );
}
