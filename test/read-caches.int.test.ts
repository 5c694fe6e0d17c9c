// The query API serves sessions, memberships, and the tenants' document pages from memory. These tests run two real query API
// processes beside the system and prove that a logout, a removed member and a lost notification
// connection take effect on both within the stated bound (1 s after the change commits).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { sql } from '../core/adapters/db.ts';
import { startDocumentSystem, tenantWith, eventually, uploadOk, tenantQuery } from './support/document-helpers.ts';

const BOUND_MS = 1000;
const s = await startDocumentSystem(t);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startQueryApi(): Promise<string> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['query-api/server.ts'], {
    env: { ...process.env, ...s.ctx.env, QUERY_API_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  t.teardown(async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
  return url;
}

const instances = [await startQueryApi(), await startQueryApi()];
const status = async (url: string, token: string) => (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;

/** Milliseconds until every instance answers `expected` for the path (polled), from `since`. */
async function untilAll(path: string, token: string, expected: number, since: number): Promise<number> {
  await Promise.all(
    instances.map((base) =>
      eventually(async () => ((await status(`${base}${path}`, token)) === expected ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 }),
    ),
  );
  return performance.now() - since;
}

t.test('a logout ends the session on every query API instance within the bound', async (t) => {
  const { admin } = await tenantWith(s, 'cache-logout');
  for (const base of instances) t.equal(await status(`${base}/api/users/me`, admin.token), 200, 'the session is live (and now cached)');
  for (const base of instances) t.equal(await status(`${base}/api/users/me`, admin.token), 200, 'and served again');
  const since = performance.now();
  const logout = await s.id.command('POST', '/api/auth/logout', { token: admin.token });
  t.equal(logout.status, 204);
  const took = await untilAll('/api/users/me', admin.token, 401, since);
  t.ok(took <= BOUND_MS, `both instances refuse the token ${took.toFixed(0)} ms after the logout (bound ${BOUND_MS} ms)`);
});

t.test('a removed member loses access on every instance within the bound of the read model change', async (t) => {
  const { admin, tenantId, members } = await tenantWith(s, 'cache-member', ['user']);
  const member = members[0]!;
  const path = `/api/tenants/${tenantId}/documents`;
  for (const base of instances) t.equal(await status(`${base}${path}`, member.token), 200, 'the member reads (membership now cached)');
  const removed = await s.id.command('DELETE', `/api/tenants/${tenantId}/users/${member.userId}`, { token: admin.token });
  t.equal(removed.status, 200);
  await eventually(async () =>
    (await s.ctx.pool.exists(sql.unsafe`select 1 from memberships where tenant_id = ${tenantId} and user_id = ${member.userId}`)) ? undefined : true,
  );
  const took = await untilAll(path, member.token, 404, performance.now());
  t.ok(took <= BOUND_MS, `both instances answer 404 ${took.toFixed(0)} ms after the read model dropped the membership`);
});

t.test('a lost notification connection drops the caches, so a change made meanwhile is seen', async (t) => {
  const { admin } = await tenantWith(s, 'cache-lost');
  for (const base of instances) t.equal(await status(`${base}/api/users/me`, admin.token), 200);
  // Cut every listener's connection, then revoke the session while nobody listens: the
  // notification is lost, but the cache was dropped with the connection.
  const killed = await s.ctx.admin(
    `select pg_terminate_backend(pid) from pg_stat_activity
    where datname = current_database() and query = 'listen ledgerline_invalidate'`.replace('current_database()', `'ll_${s.ctx.id}'`),
  );
  t.ok(killed.rowCount! >= 2, `listener connections cut (${killed.rowCount})`);
  await s.ctx.pool.query(sql.unsafe`update sessions set revoked_at = now(), revoked_reason = 'test' where user_id = ${admin.userId}`);
  const took = await untilAll('/api/users/me', admin.token, 401, performance.now());
  t.ok(took <= BOUND_MS, `both instances refuse the revoked session ${took.toFixed(0)} ms later`);
});

t.test("a changed document leaves every instance's cached page and document within the bound of the read model change", async (t) => {
  const { admin, tenantId } = await tenantWith(s, 'cache-page');
  const doc = await uploadOk(s, admin.token, tenantId, { data: Buffer.from('cached page'), fields: { title: 'before' } });
  const list = `/api/tenants/${tenantId}/documents?limit=10`;
  const one = `/api/tenants/${tenantId}/documents/${doc.id}`;
  const read = async (url: string) => (await (await fetch(url, { headers: { authorization: `Bearer ${admin.token}` } })).json()) as any;
  const titles = async (base: string) => [(await read(`${base}${list}`)).items?.[0]?.title, (await read(`${base}${one}`)).title];
  await Promise.all(
    instances.map((base) =>
      eventually(async () => ((await titles(base)).join() === 'before,before' ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 }),
    ),
  );
  for (const base of instances) t.same(await titles(base), ['before', 'before'], 'the page and the document are read (and now cached)');
  const renamed = await s.id.command('PUT', one, { token: admin.token, body: { title: 'after' }, headers: { 'if-match': `"${doc.version}"` } });
  t.equal(renamed.status, 200);
  await eventually(async () =>
    (await tenantQuery(s.ctx, tenantId, 'select title from documents where document_id = $1', [doc.id]))[0]?.title === 'after' ? true : undefined,
  );
  const since = performance.now();
  await Promise.all(
    instances.map((base) => eventually(async () => ((await titles(base)).join() === 'after,after' ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 })),
  );
  const took = performance.now() - since;
  t.ok(took <= BOUND_MS, `both instances show the new title ${took.toFixed(0)} ms after the read model changed (bound ${BOUND_MS} ms)`);
});
