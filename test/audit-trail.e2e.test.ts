// The audit trail end to end: authentication outcomes on the log (IP and User-Agent, never a
// password, hash, token or unknown email in clear), a user's own trail, the tenant trail's
// filters, cursor and NDJSON export, isolation, and the hash chain checked by the real
// `audit:verify` command after tampering with rows of the real database.
import t from 'tap';
import { createTestContext, eventually } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { after, eventsContaining, identity, runNode, type User } from './support/identity-helpers.ts';
import { sql } from '../core/adapters/db.ts';
import { openEvents } from '../core/eventing/personal-data.ts';

// The test client stands behind a proxy on 127.0.0.1 that sets X-Forwarded-For (TRUST_PROXY).
const ctx = await createTestContext(t, { TRUST_PROXY: '127.0.0.1' });
const system = await startSystem(t, ctx);
const id = identity(system);
const { command, query } = id;
const browser = { 'user-agent': 'AuditTest/1.0 (X11)', 'x-forwarded-for': '203.0.113.9' };
const UNKNOWN_EMAIL = 'nobody-here@example.com';

const admin: User = await id.registerAndLogin('trail-admin@example.com');
const viewer: User = await id.registerAndLogin('trail-viewer@example.com');
const outsider: User = await id.registerAndLogin('trail-outsider@example.com');
const tenant = await id.createTenant(admin.token, 'trail');
const other = await id.createTenant(outsider.token, 'trail-other');
await id.addMember(admin.token, tenant.tenantId, viewer, 'viewer');

/** Waits until the audit projection has applied everything up to `position`. */
/** The viewer's live token (changing the password ends the viewer's other sessions). */
let viewerToken = viewer.token;
const auditCaughtUp = (position: number) =>
  eventually(async () => {
    const checkpoint = Number((await ctx.pool.maybeOneFirst(sql.unsafe`select position from projection_checkpoints where projection = 'audit'`)) ?? 0);
    return checkpoint >= position ? true : undefined;
  });
const lastPosition = async () => Number(await ctx.pool.oneFirst(sql.unsafe`select max(global_position) from events`));

t.test('authentication outcomes are events, with the client and without secrets', async (t) => {
  const wrong = await command('POST', '/api/auth/login', { body: { email: viewer.email, password: 'not the password' }, headers: browser });
  t.equal(wrong.status, 401);
  const unknown = await command('POST', '/api/auth/login', { body: { email: `  ${UNKNOWN_EMAIL.toUpperCase()} `, password: 'whatever123' }, headers: browser });
  t.equal(unknown.status, 401);
  t.same(unknown.body, wrong.body, 'the caller cannot tell the two failures apart');
  const ok = await command('POST', '/api/auth/login', { body: { email: viewer.email, password: viewer.password }, headers: browser });
  t.equal(ok.status, 200);
  const rotated = await command('POST', '/api/auth/refresh', { body: { refresh_token: ok.body.refresh_token } });
  t.equal(rotated.status, 200);
  const reused = await command('POST', '/api/auth/refresh', { body: { refresh_token: ok.body.refresh_token }, headers: browser });
  t.equal(reused.body.error.code, 'REFRESH_TOKEN_REUSED');
  const second = await command('POST', '/api/auth/login', { body: { email: viewer.email, password: viewer.password }, headers: browser });
  const out = await command('POST', '/api/auth/logout', { token: second.body.access_token, headers: browser });
  t.equal(out.status, 204);
  const third = await command('POST', '/api/auth/login', { body: { email: viewer.email, password: viewer.password } });
  const changed = await command('POST', '/api/auth/password', {
    token: third.body.access_token,
    headers: browser,
    body: { currentPassword: viewer.password, newPassword: 'a brand new passphrase' },
  });
  t.equal(changed.status, 200);

  // The client is sealed on the log (README "Erasure"): opened here as the read side opens it.
  const events = await openEvents(
    ctx.pool,
    (await ctx.pool.any(sql.unsafe`
    select type, stream_id, actor, data from events where stream_id like 'auth-%' or (stream_id = ${`user-${viewer.userId}`} and type = 'UserPasswordChanged')
    order by global_position`)) as unknown as { type: string; stream_id: string; actor: string | null; data: any }[],
  );
  const mine = events.filter((e) => e.stream_id === `auth-${viewer.userId}`).map((e) => e.type);
  t.same(
    mine,
    ['LoginSucceeded', 'LoginFailed', 'LoginSucceeded', 'RefreshTokenReuseDetected', 'LoginSucceeded', 'LoggedOut', 'LoginSucceeded'],
    "the viewer's auth-activity stream, in order",
  );
  const failed = events.find((e) => e.type === 'LoginFailed' && e.data.userId === viewer.userId);
  t.same(failed?.data.client, { ip: '203.0.113.9', userAgent: 'AuditTest/1.0 (X11)' }, 'IP and User-Agent recorded');
  t.equal(failed?.data.reason, 'wrong_password');
  const anonymous = events.filter((e) => e.stream_id.startsWith('auth-anon-'));
  t.equal(anonymous.length, 1, 'the unknown email has a stream of its own');
  t.match(anonymous[0]?.data, { userId: null, reason: 'unknown_email', emailPseudonym: /^[0-9a-f]{64}$/ });
  t.equal(anonymous[0]?.stream_id, `auth-anon-${anonymous[0]?.data.emailPseudonym}`);
  t.same(await eventsContaining(ctx, 'nobody-here'), [], 'the unknown email is nowhere on the log, in any spelling');
  t.same(await eventsContaining(ctx, 'NOBODY-HERE'), []);
  const password = events.find((e) => e.type === 'UserPasswordChanged');
  t.same(password?.data.client, { ip: '203.0.113.9', userAgent: 'AuditTest/1.0 (X11)' }, 'the password change records its client');
  for (const secret of [
    viewer.password,
    'not the password',
    'whatever123',
    'a brand new passphrase',
    ok.body.access_token,
    ok.body.refresh_token,
    rotated.body.refresh_token,
    second.body.access_token,
  ]) {
    t.same(await eventsContaining(ctx, secret), [], 'no password or token on the log');
  }
  const hashes = (await ctx.pool.anyFirst(sql.unsafe`select password_hash from credentials`)) as string[];
  for (const hash of hashes) t.same(await eventsContaining(ctx, hash), [], 'no password hash on the log');
  const again = await command('POST', '/api/auth/login', { body: { email: UNKNOWN_EMAIL, password: 'x' }, headers: browser });
  t.equal(again.status, 401);
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(distinct stream_id) from events where stream_id like 'auth-anon-%'`)),
    1,
    'the same unknown email keeps one pseudonym',
  );
});

t.test("a user's own trail: GET /api/users/me/audit", async (t) => {
  const login = await command('POST', '/api/auth/login', { body: { email: viewer.email, password: 'a brand new passphrase' } });
  const token = login.body.access_token as string;
  viewerToken = token;
  const position = await lastPosition();
  const mine = await query('GET', '/api/users/me/audit?limit=200', { token, headers: after(position) });
  t.equal(mine.status, 200);
  const types = mine.body.items.map((e: { type: string }) => e.type);
  for (const type of ['UserRegistered', 'LoginSucceeded', 'LoginFailed', 'LoggedOut', 'RefreshTokenReuseDetected', 'UserPasswordChanged', 'MemberAdded']) {
    t.ok(types.includes(type), `shows ${type}`);
  }
  t.ok(
    mine.body.items.every((e: { userId: string }) => e.userId === viewer.userId),
    'only entries about the caller',
  );
  t.equal(types[0], 'LoginSucceeded', 'newest first');
  const failures = await query('GET', '/api/users/me/audit?type=LoginFailed', { token });
  t.same(
    failures.body.items.map((e: { type: string }) => e.type),
    ['LoginFailed'],
  );
  const theirs = await query('GET', '/api/users/me/audit?limit=200', { token: admin.token, headers: after(position) });
  t.notOk(
    theirs.body.items.some((e: { userId: string }) => e.userId === viewer.userId),
    "nobody sees another user's entries",
  );
});

t.test('tenant trail: filters by actor, type and time, cursor pages, isolation', async (t) => {
  const renamed = await command('PUT', `/api/tenants/${tenant.tenantId}`, { token: admin.token, body: { name: 'Trail Inc' } });
  const url = `/api/tenants/${tenant.tenantId}/audit`;
  const all = await query('GET', `${url}?limit=200`, { token: admin.token, headers: after(renamed.body.position) });
  t.equal(all.status, 200);
  t.same(
    all.body.items.map((e: { type: string }) => e.type),
    ['TenantRenamed', 'MemberAdded', 'InvitationAccepted', 'MemberInvited', 'TenantProvisioned', 'MemberAdded', 'TenantPlaced', 'TenantCreated', 'SlugClaimed'],
  );
  t.ok(all.body.items.every((e: { tenantId: string; hash: string }) => e.tenantId === tenant.tenantId && /^[0-9a-f]{64}$/.test(e.hash)));

  const byActor = await query('GET', `${url}?actor=system:provisioner`, { token: admin.token });
  t.same(
    byActor.body.items.map((e: { type: string }) => e.type),
    ['TenantProvisioned'],
    'by actor',
  );
  const byType = await query('GET', `${url}?type=MemberAdded,TenantRenamed`, { token: admin.token });
  t.same(
    byType.body.items.map((e: { type: string }) => e.type),
    ['TenantRenamed', 'MemberAdded', 'MemberAdded'],
    'by types',
  );
  const renamedAt = all.body.items[0].occurredAt as string;
  const since = await query('GET', `${url}?from=${encodeURIComponent(renamedAt)}`, { token: admin.token });
  t.same(
    since.body.items.map((e: { type: string }) => e.type),
    ['TenantRenamed'],
    'from is inclusive',
  );
  const before = await query('GET', `${url}?to=${encodeURIComponent(renamedAt)}`, { token: admin.token });
  t.notOk(
    before.body.items.some((e: { type: string }) => e.type === 'TenantRenamed'),
    'to is exclusive',
  );

  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await query('GET', `${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token });
    t.equal(page.status, 200);
    pages.push(...page.body.items.map((e: { position: number }) => e.position));
    cursor = page.body.nextCursor;
  } while (cursor);
  t.same(
    pages,
    all.body.items.map((e: { position: number }) => e.position),
    'cursor pages join up, nothing twice',
  );

  for (const [what, q, code] of [
    ['garbage cursor', 'cursor=%%%', 'INVALID_CURSOR'],
    ['a cursor of another shape', `cursor=${Buffer.from('{"before":-4}').toString('base64url')}`, 'INVALID_CURSOR'],
    ['unknown event type', 'type=PasswordStolen', 'UNKNOWN_EVENT_TYPE'],
    ['bad time', 'from=yesterday', 'VALIDATION_FAILED'],
    ['inverted range', 'from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z', 'INVALID_RANGE'],
  ] as const) {
    const answer = await query('GET', `${url}?${q}`, { token: admin.token });
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(answer.body.error?.code, code, `${what}: ${code}`);
  }

  for (const path of [url, `${url}/export`]) {
    t.equal((await query('GET', path, { token: viewerToken })).status, 403, `${path}: a viewer gets 403`);
    t.equal((await query('GET', path, { token: outsider.token })).status, 404, `${path}: another tenant's admin gets 404`);
    t.equal((await query('GET', path.replace(tenant.tenantId, other.tenantId), { token: admin.token })).status, 404, `${path}: and the other way round`);
  }
});

t.test('NDJSON export streams a range, oldest first', async (t) => {
  const url = `/api/tenants/${tenant.tenantId}/audit`;
  const listed = await query('GET', `${url}?limit=200`, { token: admin.token });
  const exported = await system.query.inject({ method: 'GET', url: `${url}/export`, headers: { authorization: `Bearer ${admin.token}` } });
  t.equal(exported.statusCode, 200);
  t.match(exported.headers['content-type'], /^application\/x-ndjson/);
  const lines = exported.body
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.same(lines, listed.body.items.toReversed(), 'the same entries as the list, oldest first');
  const viaAccept = await system.query.inject({
    method: 'GET',
    url: `${url}?type=MemberAdded`,
    headers: { authorization: `Bearer ${admin.token}`, accept: 'application/x-ndjson' },
  });
  t.match(viaAccept.headers['content-type'], /^application\/x-ndjson/);
  t.same(
    viaAccept.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).type),
    ['MemberAdded', 'MemberAdded'],
    'Accept: application/x-ndjson exports the filtered range',
  );
});

t.test('audit:verify detects an edited, removed or reordered entry in the real database', async (t) => {
  await auditCaughtUp(await lastPosition());
  const verify = async (...args: string[]) => {
    const run = await runNode(t, 'scripts/audit-verify.ts', args, ctx.env);
    const line = run.output.split('\n').find((l) => l.includes('"headHash"'));
    return { code: run.code, report: line ? JSON.parse(line) : null, output: run.output };
  };
  const intact = await verify('--tenant', tenant.slug);
  t.equal(intact.code, 0, `intact: exit 0 ${intact.output}`);
  const listed = await query('GET', `/api/tenants/${tenant.tenantId}/audit?limit=200`, { token: admin.token });
  t.equal(intact.report.entries, listed.body.items.length, 'every entry of the tenant checked');
  t.same(intact.report.problems, []);
  t.equal((await verify('--user', viewer.userId)).code, 0, "a user's chain too");
  t.equal((await verify('--anonymous')).code, 0, 'and the unknown-email chain');
  t.equal((await verify('--tenant', 'no-such-tenant')).code, 2, 'an unknown tenant: exit 2');
  t.equal((await verify()).code, 2, 'no chain named: exit 2');

  const rows = async () =>
    ctx.pool.anyFirst(sql.unsafe`select global_position from audit_log where chain = ${tenant.tenantId} order by global_position`) as Promise<number[]>;
  const positions = await rows();
  const [, second, third] = positions;
  await ctx.pool.query(sql.unsafe`create table audit_snapshot as select * from audit_log where chain = ${tenant.tenantId}`);
  const restore = async () => {
    await ctx.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`delete from audit_log where chain = ${tenant.tenantId}`);
      await tx.query(sql.unsafe`insert into audit_log select * from audit_snapshot`);
    });
  };
  const problemsAt = (report: { problems: { position: number; problem: string }[] }) => report.problems.map((p) => `${p.position}:${p.problem}`);

  await ctx.pool.query(sql.unsafe`update audit_log set actor = 'someone-else' where global_position = ${third!}`);
  await ctx.pool.query(sql.unsafe`update audit_log set data = jsonb_set(data, '{name}', '"Evil Corp"') where global_position = ${second!}`);
  const edited = await verify('--tenant', tenant.tenantId);
  t.equal(edited.code, 1, 'edited: exit 1');
  t.same(problemsAt(edited.report), [`${second}:edited`, `${third}:edited`], 'every edited entry is named (an actor too)');
  await restore();

  await ctx.pool.query(sql.unsafe`delete from audit_log where global_position = ${second!}`);
  const removed = await verify('--tenant', tenant.tenantId);
  t.equal(removed.code, 1, 'removed: exit 1');
  t.same(problemsAt(removed.report), [`${second}:missing`, `${third}:link broken`]);
  await restore();

  await ctx.pool.query(sql.unsafe`delete from audit_log where global_position = ${positions.at(-1)!}`);
  t.same(
    problemsAt((await verify('--tenant', tenant.tenantId)).report),
    [`${positions.at(-1)}:missing`],
    'removing the last entry is caught by the event store',
  );
  await restore();

  // Reordered: two entries swap places (their positions), each keeping its own content and hash.
  await ctx.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`update audit_log set global_position = -1 where global_position = ${second!}`);
    await tx.query(sql.unsafe`update audit_log set global_position = ${second!} where global_position = ${third!}`);
    await tx.query(sql.unsafe`update audit_log set global_position = ${third!} where global_position = -1`);
  });
  const reordered = await verify('--tenant', tenant.tenantId);
  t.equal(reordered.code, 1, 'reordered: exit 1');
  t.ok(
    problemsAt(reordered.report).includes(`${second}:edited`) && problemsAt(reordered.report).includes(`${second}:link broken`),
    'the swapped entries are named',
  );
  await restore();
  t.equal((await verify('--tenant', tenant.tenantId)).code, 0, 'restored: intact again');
});
