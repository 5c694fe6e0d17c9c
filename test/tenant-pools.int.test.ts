// Tenant pool eviction must never end a pool under a running query (issue 11, finding 5): a
// client cycling through more tenants than TENANT_POOLS_MAX used to make other tenants' reads
// fail with 500 when their pool was closed mid-query.
import t from 'tap';
import { createTestContext, adminQuery, uniqueId, eventually } from './support/harness.ts';
import { createTenantPools } from '../core/adapters/tenant-pools.ts';
import { sql } from '../core/adapters/db.ts';

const ctx = await createTestContext(t);
const names = [uniqueId('tpa_'), uniqueId('tpb_'), uniqueId('tpc_'), uniqueId('tpd_')];
for (const name of names) await adminQuery(`create database ${name}`);
t.teardown(async () => {
  for (const name of names) await adminQuery(`drop database if exists ${name} with (force)`);
});
const [slow, ...others] = names as [string, ...string[]];

const connectionsTo = async (name: string) =>
  Number((await adminQuery('select count(*)::int as n from pg_stat_activity where datname = $1', [name])).rows[0].n);

t.test('cycling through more tenants than the cap while a slow query runs: the query succeeds', async (t) => {
  const pools = createTenantPools({ mainUri: ctx.config.DATABASE_URL, poolSize: 1, maxPools: 2, graceMs: 200 });
  t.teardown(() => pools.closeAll());
  const db = await pools.get(slow);
  const running = db.oneFirst(sql.unsafe`select 'survived' from pg_sleep(1.5)`);
  // A second request to the same tenant waits for the pool's only connection meanwhile.
  const queued = db.oneFirst(sql.unsafe`select 'queued too'`).catch((err: Error) => `failed: ${err.message}`);
  const failures: string[] = [];
  for (let round = 0; round < 10; round++) {
    for (const name of others) {
      try {
        await (await pools.get(name)).oneFirst(sql.unsafe`select 1`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  }
  t.same(failures, [], "the other tenants' reads all succeed");
  t.equal(await running, 'survived', 'the slow query on the least recently used pool completes');
  t.equal(await queued, 'queued too', 'and so does the request waiting for its connection');
  t.ok(pools.size() <= 2, `at most maxPools in use (${pools.size()})`);
  await eventually(async () => (pools.retiring() === 0 && (await connectionsTo(slow)) === 0 ? true : undefined), { timeoutMs: 10_000 });
  t.pass('the evicted pool is ended once its query is done, releasing its connection');
});

t.test('an idle pool is evicted before a busy one', async (t) => {
  const pools = createTenantPools({ mainUri: ctx.config.DATABASE_URL, poolSize: 1, maxPools: 2, graceMs: 100 });
  t.teardown(() => pools.closeAll());
  const busy = await pools.get(slow);
  const running = busy.oneFirst(sql.unsafe`select 'done' from pg_sleep(1)`);
  await (await pools.get(others[0]!)).oneFirst(sql.unsafe`select 1`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await (await pools.get(others[1]!)).oneFirst(sql.unsafe`select 1`);
  t.equal(pools.retiring(), 0, 'the idle pool was closed at once, the busy one kept');
  t.equal(await running, 'done');
  t.equal(await busy.oneFirst(sql.unsafe`select current_database()`), slow, 'and the busy pool still serves its tenant');
});
