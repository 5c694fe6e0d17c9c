// Tenant databases on two real PostgreSQL clusters (scripts/infra.sh starts the second, pg2):
// new tenants go to the server with the fewest tenants unless the request names one, every
// reader and writer finds the database where it was placed, and `npm run tenants -- move`
// moves a tenant online while a client keeps writing and reading: no write fails, no read goes
// back in time, the old database is dropped.
import t from 'tap';
import pg from 'pg';
import { withDatabase } from '../core/adapters/db.ts';
import { parseTenantServers } from '../core/adapters/tenant-servers.ts';
import { after, eventually, mainQuery, startDocumentSystem, tenantPlacement, tenantWith, uploadOk, type DocSystem } from './support/document-helpers.ts';
import { runNode } from './support/identity-helpers.ts';

const mainUrl = process.env.DATABASE_URL ?? 'postgres://ledgerline:ledgerline@127.0.0.1:55432/ledgerline';
const pg2Url =
  parseTenantServers(process.env.TENANT_SERVERS ?? '', mainUrl).get('pg2') ??
  `postgres://ledgerline:ledgerline@127.0.0.1:${process.env.LEDGERLINE_PG2_PORT ?? '55433'}/ledgerline`;
const TENANT_SERVERS = `main=${mainUrl},pg2=${pg2Url}`;
const serverUrl: Record<string, string> = { main: mainUrl, pg2: pg2Url };

// Read-your-writes waits long enough to span a whole move (the last test holds one open through it).
const s: DocSystem = await startDocumentSystem(t, { TENANT_SERVERS, READ_YOUR_WRITES_TIMEOUT_MS: '60000' });
const { ctx } = s;

async function databaseExists(server: string, database: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl[server] });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [database])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function documentsOn(server: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl[server]!, database) });
  await client.connect();
  try {
    return Number((await client.query('select count(*) from documents')).rows[0].count);
  } finally {
    await client.end();
  }
}

/** Every document of the tenant, page by page (a page holds 100 at most; a fast client writes more). */
const listCount = async (token: string, tenantId: string, headers: Record<string, string> = {}) => {
  let count = 0;
  let cursor: string | null = null;
  do {
    const answer = await s.id.query('GET', `/api/tenants/${tenantId}/documents?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      token,
      headers,
    });
    if (answer.status !== 200) throw new Error(`list: ${answer.status} ${JSON.stringify(answer.body)}`);
    count += (answer.body.items as unknown[]).length;
    cursor = answer.body.nextCursor as string | null;
  } while (cursor);
  return count;
};

const first = await tenantWith(s, 'place-one');
const second = await tenantWith(s, 'place-two');

t.test('new tenants go to the server with the fewest tenants; the database is created there only', async (t) => {
  const one = await tenantPlacement(ctx, first.tenantId);
  const two = await tenantPlacement(ctx, second.tenantId);
  t.equal(one.server, 'main', 'a tie goes to the first name');
  t.equal(two.server, 'pg2', 'then the emptier server');
  t.ok(await databaseExists('pg2', two.database), 'the database is on pg2');
  t.notOk(await databaseExists('main', two.database), 'and not on main');
  const placed = await mainQuery(ctx, `select data from events where type = 'TenantPlaced' and tenant_id = $1`, [second.tenantId]);
  t.same(
    placed.map((e) => e.data),
    [{ tenantId: second.tenantId, server: 'pg2', database: two.database }],
    'TenantPlaced on the log names the server, never its URL',
  );
});

t.test('a request may name the server; an unknown one is a 400', async (t) => {
  const admin = await s.id.registerAndLogin('place-named@example.com');
  const named = await s.id.command('POST', '/api/tenants', { token: admin.token, body: { name: 'Named', slug: 'place-named', server: 'pg2' } });
  t.equal(named.status, 202);
  await s.id.waitUntilActive(admin.token, named.body.id);
  t.equal((await tenantPlacement(ctx, named.body.id)).server, 'pg2', 'pg2 although it has more tenants');
  const unknown = await s.id.command('POST', '/api/tenants', { token: admin.token, body: { name: 'Nowhere', slug: 'place-nowhere', server: 'nowhere' } });
  t.equal(unknown.status, 400);
  t.equal(unknown.body.error.code, 'UNKNOWN_SERVER');
});

t.test('documents of a tenant on pg2 are written, projected and read there', async (t) => {
  const up = await uploadOk(s, second.admin.token, second.tenantId, { data: Buffer.from('on the second cluster'), filename: 'two.txt' });
  t.equal(await listCount(second.admin.token, second.tenantId, after(up.position)), 1);
  t.equal(await documentsOn('pg2', (await tenantPlacement(ctx, second.tenantId)).database), 1, 'the row is in the pg2 database');
  const download = await s.id.query('GET', `/api/tenants/${second.tenantId}/documents/${up.id}`, { token: second.admin.token });
  t.equal(download.status, 200);
});

t.test('migrate:tenants finds each tenant database on its own server', async (t) => {
  const run = await runNode(t, 'scripts/migrate-tenants.ts', ['--status'], { ...ctx.env, LOG_LEVEL: 'info' }, 60_000);
  t.equal(run.code, 0, { output: run.output });
  const rows = run.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.tenant && l.server);
  t.same(new Set(rows.map((r) => `${r.tenant}@${r.server}`)), new Set(['place-one@main', 'place-two@pg2', 'place-named@pg2']));
});

t.test('a tenant moves online while a client writes and reads, and moves back', async (t) => {
  const { tenantId, admin } = first;
  const { database } = await tenantPlacement(ctx, tenantId);
  for (let i = 0; i < 5; i++) await uploadOk(s, admin.token, tenantId, { data: Buffer.from(`before ${i}`), filename: `b${i}.txt` });

  // The client: uploads one document after another; after each, reads the list twice, once as
  // anyone would (no position) and once asking for its own write (X-Min-Position).
  let stop = false;
  const seen: number[] = [];
  const problems: string[] = [];
  let written = 5;
  const client = (async () => {
    while (!stop) {
      try {
        const up = await uploadOk(s, admin.token, tenantId, { data: Buffer.from(`during ${written}`), filename: `d${written}.txt` });
        written += 1;
        seen.push(await listCount(admin.token, tenantId));
        const own = await listCount(admin.token, tenantId, after(up.position));
        if (own < written) problems.push(`read-your-writes: ${own} documents after writing ${written}`);
        seen.push(own);
      } catch (err) {
        problems.push((err as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  for (const [to, from] of [
    ['pg2', 'main'],
    ['main', 'pg2'],
  ] as const) {
    const move = await runNode(t, 'scripts/tenants.ts', ['move', 'place-one', '--to', to, '--drain-ms', '1000'], { ...ctx.env, LOG_LEVEL: 'info' }, 120_000);
    t.equal(move.code, 0, `moved to ${to}`, { output: move.output });
    t.equal((await tenantPlacement(ctx, tenantId)).server, to, `the placement map says ${to}`);
    t.ok(await databaseExists(to, database), `the database is on ${to}`);
    t.notOk(await databaseExists(from, database), `and dropped from ${from}`);
    const writtenAtMove = written;
    await eventually(async () => (written >= writtenAtMove + 3 ? true : undefined), { timeoutMs: 60_000 });
  }
  stop = true;
  await client;

  t.same(problems, [], 'every write succeeded and every read saw its own writes');
  const regressions = seen.filter((count, i) => i > 0 && count < seen[i - 1]!);
  t.same(regressions, [], `no read saw fewer documents than an earlier one (${seen.length} reads)`);
  t.ok(written > 8, `the client kept writing through both moves (${written} documents)`);
  const final = await listCount(admin.token, tenantId, after(Number((await mainQuery(ctx, 'select max(global_position) as p from events'))[0].p)));
  t.equal(final, written, 'every document is in the moved database');
  t.equal(await documentsOn('main', database), written, 'rebuilt from the log plus what came during the move');

  const again = await runNode(t, 'scripts/tenants.ts', ['move', tenantId, '--to', 'main'], { ...ctx.env, LOG_LEVEL: 'info' }, 60_000);
  t.equal(again.code, 0, 'a move to where it is already changes nothing', { output: again.output });
  t.match(again.output, /already there/);
  const bad = await runNode(t, 'scripts/tenants.ts', ['move', tenantId, '--to', 'nowhere'], { ...ctx.env, LOG_LEVEL: 'info' }, 60_000);
  t.equal(bad.code, 1, { output: bad.output });
  t.match(bad.output, /no tenant server named .{1,2}nowhere/);
});

t.test('a read waiting for its own write when the placement switches follows the tenant to its new server', async (t) => {
  // The tenant projector is stopped, so the old database never gets the new document: a read
  // asking for it (X-Min-Position) waits on the old database until the move switches the
  // placement, and must then be answered from the new one, not fail when the old one is dropped.
  const { tenantId, admin } = second;
  const { database } = await tenantPlacement(ctx, tenantId);
  t.equal((await tenantPlacement(ctx, tenantId)).server, 'pg2');
  await s.system.projectors.find((p) => p.name === 'tenant')!.stop();
  const before = await listCount(admin.token, tenantId);
  const up = await uploadOk(s, admin.token, tenantId, { data: Buffer.from('written while the projector is stopped'), filename: 'late.txt' });
  const waiting = listCount(admin.token, tenantId, after(up.position)).then(
    (count) => ({ count }),
    (err: unknown) => ({ error: (err as Error).message }),
  );
  const move = await runNode(t, 'scripts/tenants.ts', ['move', tenantId, '--to', 'main', '--drain-ms', '0'], { ...ctx.env, LOG_LEVEL: 'info' }, 120_000);
  t.equal(move.code, 0, 'moved to main', { output: move.output });
  t.notOk(await databaseExists('pg2', database), 'the old database is dropped');
  t.same(await waiting, { count: before + 1 }, 'the waiting read answered from the new database, with its own write');
});
