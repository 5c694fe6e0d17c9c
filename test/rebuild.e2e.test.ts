// Replay: rebuilding a tenant's and the main read models from the Kafka log gives exactly the
// live ones, and the query API keeps answering while it runs.
import t from 'tap';
import { createTestContext } from './support/harness.ts';
import { startSystem, client } from './support/system.ts';
import { multipartBody } from './support/multipart.ts';
import { createDatabasePool, sql, withDatabase } from '../core/adapters/db.ts';
import { rebuildOne } from '../core/eventing/rebuild-runner.ts';
import { mainRebuild, tenantRebuild } from '../projectors/shared/rebuild-specs.ts';

const ctx = await createTestContext(t);
const system = await startSystem(t, ctx);
const command = client(system.command);
const query = client(system.query);

async function snapshot(db: Awaited<ReturnType<typeof createDatabasePool>>, tables: string[]) {
  const result: Record<string, unknown> = {};
  for (const table of tables) result[table] = await db.any(sql.unsafe`select * from ${sql.identifier([table])} order by 1`);
  return result;
}

t.test('a rebuilt read model equals the live one', async (t) => {
  await command('POST', '/api/auth/register', { body: { email: 'r@example.com', password: 'password123', displayName: 'R' } });
  const token = (await command('POST', '/api/auth/login', { body: { email: 'r@example.com', password: 'password123' } })).body.access_token as string;
  const created = await command('POST', '/api/tenants', { token, body: { name: 'Replay', slug: 'replay-co' } });
  const tenantId = created.body.id as string;
  let tenant = await query('GET', `/api/tenants/${tenantId}`, { token, headers: { 'x-min-position': String(created.body.position) } });
  // Bounded by time, not by a count of requests: provisioning takes longer on a loaded machine.
  for (const deadline = Date.now() + 30_000; tenant.body.status !== 'active' && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    tenant = await query('GET', `/api/tenants/${tenantId}`, { token });
  }
  t.equal(tenant.body.status, 'active');

  let position = 0;
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const mp = multipartBody([
      { name: 'title', value: `Doc ${i}` },
      { name: 'tags', value: i % 2 ? 'odd' : 'even' },
      { name: 'file', filename: `f${i % 3}.txt`, data: Buffer.from(`content ${i % 3}`) },
    ]);
    const up = await system.command.inject({
      method: 'POST',
      url: `/api/tenants/${tenantId}/documents`,
      headers: { authorization: `Bearer ${token}`, 'content-type': mp.contentType },
      payload: mp.body,
    });
    t.equal(up.statusCode, 201, up.body);
    ids.push(up.json().id);
    position = up.json().position;
  }
  position = (await command('PUT', `/api/tenants/${tenantId}/documents/${ids[0]}`, { token, body: { title: 'Renamed' } })).body.position;
  position = (await command('DELETE', `/api/tenants/${tenantId}/documents/${ids[1]}`, { token })).body.position;
  const listed = await query('GET', `/api/tenants/${tenantId}/documents`, { token, headers: { 'x-min-position': String(position) } });
  t.equal(listed.body.items.length, 5);

  const tenantDb = await createDatabasePool(
    withDatabase(
      ctx.config.DATABASE_URL,
      tenant.body.slug ? ((await ctx.pool.oneFirst(sql.unsafe`select database_name from tenants where tenant_id = ${tenantId}`)) as string) : '',
    ),
  );
  t.teardown(() => tenantDb.end());
  const liveTenant = await snapshot(tenantDb, ['files', 'documents']);
  const liveMain = await snapshot(ctx.pool, ['users', 'tenants', 'memberships']);

  const during = query('GET', `/api/tenants/${tenantId}/documents`, { token });
  const rebuilt = await rebuildOne({
    eventLog: ctx.eventLog,
    db: tenantDb,
    spec: tenantRebuild(ctx.pool, ctx.topics, tenantId),
    logger: ctx.logger,
    groupId: `${ctx.config.TOPIC_PREFIX}rebuild.t`,
  });
  t.equal((await during).status, 200, 'the query API answers while the rebuild runs');
  t.ok(rebuilt.applied > 0, `applied ${rebuilt.applied} events`);
  t.same(await snapshot(tenantDb, ['files', 'documents']), liveTenant, 'tenant read model after rebuild equals the live one');

  await rebuildOne({
    eventLog: ctx.eventLog,
    db: ctx.pool,
    spec: mainRebuild(ctx.pool, ctx.topics),
    logger: ctx.logger,
    groupId: `${ctx.config.TOPIC_PREFIX}rebuild.m`,
  });
  t.same(await snapshot(ctx.pool, ['users', 'tenants', 'memberships']), liveMain, 'main read models after rebuild equal the live ones');

  const after = await query('GET', `/api/tenants/${tenantId}/documents?tag=odd`, { token });
  t.equal(after.body.items.length, 2, 'the query API serves the swapped-in rows');
});
