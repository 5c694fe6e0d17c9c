// What operators rely on: health, readiness against the real dependencies, Prometheus metrics,
// the OpenAPI documents, configuration that stops a misconfigured process at start-up, and
// bounded pools to tenant databases.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createTestContext, adminQuery, uniqueId } from './support/harness.ts';
import { createServices } from '../core/adapters/services.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { createTenantPools } from '../core/adapters/tenant-pools.ts';
import { sql } from '../core/adapters/db.ts';
import { buildCommandApi } from '../command-api/app.ts';
import { buildQueryApi } from '../query-api/app.ts';

const ctx = await createTestContext(t, { OPERATOR_TOKEN: 'operations-test-operator-token' });
const asOperator = { headers: { authorization: 'Bearer operations-test-operator-token' } };

t.test('health, readiness, metrics and OpenAPI on both APIs', async (t) => {
  const services = await createServices(loadConfig({ ...process.env, ...ctx.env }), ctx.logger);
  t.teardown(() => services.close());
  for (const [name, app] of [
    ['command-api', await buildCommandApi(services)],
    ['query-api', await buildQueryApi(services)],
  ] as const) {
    t.teardown(() => app.close());
    const health = await app.inject('/health');
    t.same(health.json(), { status: 'ok', service: name });
    const ready = await app.inject({ url: '/ready', ...asOperator });
    t.equal(ready.statusCode, 200, `${name} is ready`);
    t.same(
      ready.json().checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
      [
        ['postgres', true],
        ['kafka', true],
        ['s3', true],
      ],
    );
    const metrics = await app.inject('/metrics');
    t.match(metrics.headers['content-type'], /text\/plain/);
    t.match(metrics.body, /ledgerline_http_request_duration_seconds_bucket\{[^}]*route="\/ready"/);
    t.match(metrics.body, /ledgerline_process_resident_memory_bytes \d+/);
    const docs = await app.inject('/api/docs/json');
    t.equal(docs.statusCode, 200);
    t.ok(
      Object.keys(docs.json().paths).some((path) => path.startsWith('/api/')),
      `${name} documents its routes`,
    );
    const unknown = await app.inject('/api/nope');
    t.same(unknown.json().error.code, 'ROUTE_NOT_FOUND');
  }
});

t.test('readiness is 503 and names the dependency that does not answer', async (t) => {
  const services = await createServices(loadConfig({ ...process.env, ...ctx.env, S3_BUCKET: `missing-${uniqueId()}` }), ctx.logger);
  t.teardown(() => services.close());
  const app = await buildQueryApi(services);
  t.teardown(() => app.close());
  const ready = await app.inject({ url: '/ready', ...asOperator });
  t.equal(ready.statusCode, 503);
  const s3 = ready.json().checks.find((c: { name: string }) => c.name === 's3');
  t.equal(s3.ok, false, 'the S3 check fails for a bucket that does not exist');
  t.equal(ready.json().checks.find((c: { name: string }) => c.name === 'postgres').ok, true);
});

t.test('a production process with a missing or malformed setting stops at start-up naming it', async (t) => {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['query-api/server.ts'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 120_000 }); // start-up is slow on a loaded machine
  const missing = run({ NODE_ENV: 'production' });
  t.equal(missing.status, 78, 'exit code EX_CONFIG');
  t.match(missing.stderr, /DATABASE_URL is required when NODE_ENV=production/);
  t.match(missing.stderr, /JWT_SECRET is required/);
  const malformed = run({ NODE_ENV: 'development', QUERY_API_PORT: 'eighty' });
  t.equal(malformed.status, 78);
  t.match(malformed.stderr, /QUERY_API_PORT/);
});

t.test('tenant database pools are bounded: the least recently used one is closed', async (t) => {
  const names = [uniqueId('tp_'), uniqueId('tp_'), uniqueId('tp_')];
  for (const name of names) await adminQuery(`create database ${name}`);
  t.teardown(async () => {
    for (const name of names) await adminQuery(`drop database if exists ${name} with (force)`);
  });
  const pools = createTenantPools({ mainUri: ctx.config.DATABASE_URL, poolSize: 1, maxPools: 2 });
  t.teardown(() => pools.closeAll());
  const first = await pools.get(names[0]!);
  t.equal(await first.oneFirst(sql.unsafe`select current_database()`), names[0]);
  await pools.get(names[1]!);
  await pools.get(names[0]!); // now names[1] is the least recently used
  await pools.get(names[2]!);
  t.equal(pools.size(), 2, 'never more than maxPools open');
  const connections = await adminQuery(`select datname, count(*)::int as n from pg_stat_activity where datname = any($1) group by datname`, [names]);
  t.notOk(
    connections.rows.some((r: { datname: string }) => r.datname === names[1]),
    'the evicted pool holds no connection',
  );
  await t.rejects(pools.get('Robert"); drop table x;--'), /unsafe database name/, 'names are validated before use');
});
