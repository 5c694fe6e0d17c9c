// Erasure on an append-only log (crypto-shredding): a user with distinctive personal data
// writes in a tenant, erases their account, everything is rebuilt from the log, and none of
// their data is found anywhere: events, outbox, Kafka, main and tenant read models, the audit
// view and export, and what the processes logged. The audit chain still verifies.
import t from 'tap';
import { Writable } from 'node:stream';
import { createTestContext, eventually } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { after, identity } from './support/identity-helpers.ts';
import { uploadOk, type DocSystem } from './support/document-helpers.ts';
import { readLog } from './support/backbone-support.ts';
import { createLogger } from '../core/adapters/logger.ts';
import { createDatabasePool, sql, withDatabase, type DatabasePool } from '../core/adapters/db.ts';
import { rebuildOne } from '../core/eventing/rebuild-runner.ts';
import { mainRebuild, tenantRebuild } from '../projectors/shared/rebuild-specs.ts';
import { verifyAuditChain } from '../projectors/main/audit-verify.ts';
import { notificationsProjection } from '../projectors/notifications/projection.ts';

const logged: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logged.push(chunk.toString());
    done();
  },
});
const base = await createTestContext(t);
const ctx = { ...base, logger: createLogger(base.id, { LOG_LEVEL: 'debug' as never }, sink) };
const system = await startSystem(t, ctx);
const s: DocSystem = { ctx, system, id: identity(system) };
const { command, query } = s.id;

// Strings that occur nowhere else: any hit after erasure is a leak.
const EMAIL = 'zebulon.quixmarm7731@example.com';
const NAME = 'Zebulon Quixmarm';
const USER_AGENT = 'QuixmarmBrowser/7731';
const TITLE = 'Xylophone budget quixmarm';
const RENAMED = 'Renamed xylophone quixmarm';
const DESCRIPTION = 'Secret quixmarm notes';
const FILENAME = 'quixmarm-ledger.txt';
const NEEDLES = ['quixmarm', 'Quixmarm', 'zebulon', 'Zebulon', 'xylophone', 'Xylophone'];
const leaks = (text: string) => NEEDLES.filter((needle) => text.includes(needle));

/** Every row of every table of `db`, as text, by table. */
async function dumpTables(db: DatabasePool): Promise<Record<string, string>> {
  const tables = (
    await db.anyFirst(sql.unsafe`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`)
  ).map(String);
  const dump: Record<string, string> = {};
  for (const table of tables) dump[table] = (await db.anyFirst(sql.unsafe`select t::text from ${sql.identifier([table])} t`)).join('\n');
  return dump;
}

async function dumpDatabase(db: DatabasePool): Promise<string> {
  return Object.entries(await dumpTables(db))
    .map(([table, rows]) => `${table}: ${rows}`)
    .join('\n');
}

const ua = { 'user-agent': USER_AGENT };
const admin = await s.id.registerAndLogin('erasure-admin@example.com');
const tenant = await s.id.createTenant(admin.token, 'erasure-co', { name: 'Erasure Co' });
const registered = await command('POST', '/api/auth/register', { body: { email: EMAIL, password: 'zebulon-password-1', displayName: NAME }, headers: ua });
const zebulonId = registered.body.id as string;
const login = await command('POST', '/api/auth/login', { body: { email: EMAIL, password: 'zebulon-password-1' }, headers: ua });
let token = login.body.access_token as string;
await query('GET', '/api/users/me', { token, headers: after(registered.body.position) });
await s.id.addMember(admin.token, tenant.tenantId, { email: EMAIL, token }, 'user');
const doc = await uploadOk(s, token, tenant.tenantId, {
  data: Buffer.from('ledger content'),
  filename: FILENAME,
  contentType: 'text/plain',
  fields: { title: TITLE, description: DESCRIPTION, tags: 'quixmarm-tag' },
});
const renamed = await command('PUT', `/api/tenants/${tenant.tenantId}/documents/${doc.id}`, { token, body: { title: RENAMED } });
t.equal(renamed.status, 200, 'the owner renames the document');

t.test('before erasure: the read side shows the data, the log holds only ciphertext', async (t) => {
  const seen = await query('GET', `/api/tenants/${tenant.tenantId}/documents/${doc.id}`, { token: admin.token, headers: after(renamed.body.position) });
  t.equal(seen.body.title, RENAMED, 'the query API opens the title');
  t.equal(seen.body.filename, FILENAME);
  const raw = (await ctx.pool.anyFirst(sql.unsafe`select e::text from events e`)).join('\n');
  t.same(leaks(raw), [], 'the events table never held the personal data in the clear');
  t.ok(raw.includes('"ll1.'), 'the personal fields are sealed envelopes');
  const members = await query('GET', `/api/tenants/${tenant.tenantId}/users`, { token: admin.token });
  t.ok(JSON.stringify(members.body).includes(NAME), 'the member list shows the name while it exists');
});

t.test('erasing needs the password; after it the account is gone', async (t) => {
  const wrong = await command('POST', '/api/users/me/erase', { token, body: { password: 'not-it-at-all' } });
  t.equal(wrong.status, 401, 'a wrong password erases nothing');
  const erased = await command('POST', '/api/users/me/erase', { token, body: { password: 'zebulon-password-1' } });
  t.equal(erased.status, 202, JSON.stringify(erased.body));
  const ended = await eventually(async () => ((await query('GET', '/api/users/me', { token })).status === 401 ? true : undefined));
  t.ok(ended, 'its sessions ended (every API instance hears of it)');
  t.equal((await command('POST', '/api/auth/login', { body: { email: EMAIL, password: 'zebulon-password-1' } })).status, 401, 'no way back in');
  const keys = await ctx.pool.oneFirst(sql.unsafe`select count(*)::int from subject_keys where user_id = ${zebulonId}`);
  t.equal(keys, 0, 'every key of the user is deleted');
  const listed = await query('GET', `/api/tenants/${tenant.tenantId}/documents/${doc.id}`, { token: admin.token, headers: after(erased.body.position) });
  t.equal(listed.body.title, '[erased]', 'the live read model scrubbed the title');
  t.equal(listed.body.filename, '[erased]');
  token = '';
});

t.test('rebuilt from the log, nothing of the user is found anywhere; the audit chain verifies', async (t) => {
  const position = Number(await ctx.pool.oneFirst(sql.unsafe`select max(global_position) from events`));
  await query('GET', `/api/tenants/${tenant.tenantId}/documents`, { token: admin.token, headers: after(position) });
  const databaseName = String(await ctx.pool.oneFirst(sql.unsafe`select database_name from tenants where tenant_id = ${tenant.tenantId}`));
  const tenantDb = await createDatabasePool(withDatabase(ctx.config.DATABASE_URL, databaseName));
  t.teardown(() => tenantDb.end());
  await rebuildOne({
    eventLog: ctx.eventLog,
    db: tenantDb,
    spec: tenantRebuild(ctx.pool, ctx.topics, tenant.tenantId),
    logger: ctx.logger,
    groupId: `${ctx.config.TOPIC_PREFIX}rebuild.erasure.t`,
  });
  await rebuildOne({
    eventLog: ctx.eventLog,
    db: ctx.pool,
    spec: mainRebuild(ctx.pool, ctx.topics),
    logger: ctx.logger,
    groupId: `${ctx.config.TOPIC_PREFIX}rebuild.erasure.m`,
  });

  t.same(leaks(await dumpDatabase(ctx.pool)), [], 'main database (events, outbox, read models, audit log, notifications): no trace');
  t.same(leaks(await dumpDatabase(tenantDb)), [], 'tenant database: no trace');
  const docs = await query('GET', `/api/tenants/${tenant.tenantId}/documents`, { token: admin.token });
  t.equal(docs.body.items[0]?.title, '[erased]', 'the rebuilt document reads as erased');

  const log = await readLog(ctx, t, [ctx.topics.platform, ctx.topics.documents]);
  const count = Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events`));
  const messages = await log.until(count);
  t.same(leaks(JSON.stringify(messages)), [], `Kafka, both topics from offset 0 (${messages.length} messages, keys included): no trace`);

  const audit = await query('GET', `/api/tenants/${tenant.tenantId}/audit?limit=200`, { token: admin.token });
  t.equal(audit.status, 200);
  t.same(leaks(JSON.stringify(audit.body)), [], 'the audit view: no trace');
  const created = (audit.body.items as { type: string; readable: { title?: string } }[]).find((e) => e.type === 'DocumentCreated');
  t.equal(created?.readable.title, '[erased]', 'the audit view shows the erased field as erased');
  const exported = await system.query.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.tenantId}/audit/export`,
    headers: { authorization: `Bearer ${admin.token}` },
  });
  t.equal(exported.statusCode, 200);
  t.same(leaks(exported.body), [], 'the audit export: no trace');
  for (const chain of [tenant.tenantId, `user:${zebulonId}`]) {
    const report = await verifyAuditChain(ctx.pool, chain);
    t.ok(report.ok && report.entries > 0, `audit chain ${chain.slice(0, 12)}… verifies (${report.entries} entries): ${JSON.stringify(report.problems)}`);
  }
  t.ok(logged.length > 20, `${logged.length} log lines captured`);
  t.same(leaks(logged.join('')), [], 'the process logs: no trace');
});

t.test('notifications replayed from the log after erasure carry no trace', async (t) => {
  // Replayed from the start into emptied tables (the live projector, should it run meanwhile, writes the same rows).
  await ctx.pool.query(
    sql.unsafe`truncate notifications, notification_users, notification_tenants, notification_members, notification_preferences, email_outbox`,
  );
  await ctx.pool.query(sql.unsafe`update projection_checkpoints set position = 0 where projection = 'notifications'`);
  await notificationsProjection(ctx.pool, ctx.topics).catchUp('notifications', Number.MAX_SAFE_INTEGER);
  const rows = (await ctx.pool.anyFirst(sql.unsafe`select n::text from notifications n`)).join('\n');
  t.ok(rows.length > 0, 'the replay wrote notifications');
  t.same(leaks(rows), [], 'no trace in the replayed notifications');
});

t.test("a tenant's admin erases what a member left in the tenant; nobody else may", async (t) => {
  const member = await s.id.registerAndLogin('erasure-member@example.com');
  const viewer = await s.id.registerAndLogin('erasure-viewer@example.com');
  await s.id.addMember(admin.token, tenant.tenantId, member, 'user');
  await s.id.addMember(admin.token, tenant.tenantId, viewer, 'viewer');
  const other = await s.id.registerAndLogin('erasure-other-admin@example.com');
  await s.id.createTenant(other.token, 'erasure-other');
  const upload = await uploadOk(s, member.token, tenant.tenantId, {
    data: Buffer.from('pomegranate'),
    filename: 'pomegranate-4242.txt',
    contentType: 'text/plain',
    fields: { title: 'Pomegranate wobbly 4242' },
  });
  const url = `/api/tenants/${tenant.tenantId}/users/${member.userId}/erase`;
  t.equal((await command('POST', url, { token: other.token })).status, 404, "another tenant's admin: 404, as for a tenant that does not exist");
  t.equal((await command('POST', url, { token: viewer.token })).status, 403, 'a viewer: 403');
  t.equal((await command('POST', url, { token: member.token })).status, 403, 'the member themselves (not an admin): 403');
  t.equal(
    (await command('POST', `/api/tenants/${tenant.tenantId}/users/${other.userId}/erase`, { token: admin.token })).status,
    404,
    'a user who is not a member: 404',
  );
  const erased = await command('POST', url, { token: admin.token });
  t.equal(erased.status, 202, JSON.stringify(erased.body));
  const seen = await query('GET', `/api/tenants/${tenant.tenantId}/documents/${upload.id}`, { token: admin.token, headers: after(erased.body.position) });
  t.equal(seen.body.title, '[erased]', 'their title reads as erased');
  t.equal(seen.body.filename, '[erased]');
  t.equal((await query('GET', '/api/users/me', { token: member.token })).status, 200, 'their account itself is not touched');
  // Of the main database's read models only the notifications render titles in clear (into the
  // mail they send); that projection scrubs them when it applies the erasure, and it acts on
  // batches gathered for up to BACKGROUND_GATHER_MS, later than the documents' read model.
  await eventually(async () => {
    const applied = Number(await ctx.pool.oneFirst(sql.unsafe`select position from projection_checkpoints where projection = 'notifications'`));
    return applied >= Number(erased.body.position) ? true : undefined;
  });
  const tables = await dumpTables(ctx.pool);
  t.same(
    Object.keys(tables).filter((table) => /pomegranate/i.test(tables[table]!)),
    [],
    'no trace of their content in the main database',
  );
});

t.test('deleting a tenant deletes its keys: its name and content read as erased', async (t) => {
  const before = Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from subject_keys where tenant_id = ${tenant.tenantId}`));
  t.ok(before > 0, `the tenant had ${before} keys`);
  const deleted = await command('DELETE', `/api/tenants/${tenant.tenantId}`, { token: admin.token });
  t.equal(deleted.status, 202);
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from subject_keys where tenant_id = ${tenant.tenantId}`)),
    0,
    'no key of the tenant is left',
  );
  const name = await eventually(async () => {
    const row = (await ctx.pool.maybeOne(sql.unsafe`select name, status from tenants where tenant_id = ${tenant.tenantId}`)) as {
      name: string;
      status: string;
    } | null;
    return row?.status === 'deleted' ? row.name : undefined;
  });
  t.equal(name, '[erased]', 'the read model shows the name as erased');
  const created = await ctx.pool.oneFirst(sql.unsafe`select data->>'name' from events where type = 'TenantCreated' and tenant_id = ${tenant.tenantId}`);
  t.match(String(created), /^ll1\./, 'what remains on the log is the event with its name sealed under a key that is gone');
});
