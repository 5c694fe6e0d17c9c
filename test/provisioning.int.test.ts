// Event-driven provisioning against the real services: a provisioner killed right after CREATE
// DATABASE finishes the job when it comes back; provisioning twice is harmless; a failure appends
// TenantProvisioningFailed and is retried; TenantDeleted drops the database only once the read
// side shows the tenant deleted; a tenant deleted before it was provisioned holds nobody up.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createTestContext, eventually } from './support/harness.ts';
import { after, databaseExists, identity, queryDatabase, spawnNode, startParts, tablesOf } from './support/identity-helpers.ts';
import { sql } from '../core/adapters/db.ts';
import { LATEST, checkpointOf, type Projector } from '../core/eventing/projector.ts';
import { mainProjection } from '../projectors/main/projection.ts';
import { provisionerProjection } from '../projectors/provisioner/projection.ts';
import { provisionTenantDatabase } from '../projectors/provisioner/provision.ts';

const TENANT_TABLES = ['documents', 'files', 'projection_checkpoints', 'schema_migrations'];

const ctx = await createTestContext(t);
// Everything but the provisioner, which each test starts (or runs in a child process) itself.
const parts = await startParts(t, ctx);
let mainProjector = await parts.project(mainProjection(parts.services.pool, parts.services.topics));
const id = identity(parts);
const admin = await id.registerAndLogin('provisioning@example.com');
const { store } = parts.services;
const newProvisioner = () =>
  provisionerProjection({ store, mainUri: ctx.config.DATABASE_URL, topics: parts.services.topics, logger: ctx.logger, s3: parts.services.s3 });

/** Creates a tenant (the provisioner may or may not be running) and returns its database name. */
async function createTenant(slug: string): Promise<{ tenantId: string; databaseName: string; position: number }> {
  const created = await id.command('POST', '/api/tenants', { token: admin.token, body: { name: slug, slug } });
  if (created.status !== 202) throw new Error(`create ${slug}: ${created.status} ${JSON.stringify(created.body)}`);
  const databaseName = (await ctx.pool.oneFirst(sql.unsafe`
    select data->>'databaseName' from events where type = 'TenantCreated' and tenant_id = ${created.body.id}`)) as string;
  return { tenantId: created.body.id, databaseName, position: created.body.position };
}

const eventsOf = async (tenantId: string, type: string) =>
  ctx.pool.any(sql.unsafe`
  select global_position, data from events where tenant_id = ${tenantId} and type = ${type} order by global_position`) as Promise<
    readonly { global_position: number; data: Record<string, unknown> }[]
  >;

const statusOf = async (tenantId: string, position?: number) =>
  (await id.query('GET', `/api/tenants/${tenantId}`, { token: admin.token, ...(position ? { headers: after(position) } : {}) })).body.status as
    string | undefined;

const fixtureEnv = (extra: Record<string, string> = {}) => ({
  ...ctx.env,
  PROVISIONER_GROUP: `${ctx.config.TOPIC_PREFIX}provisioner-fixture.${randomBytes(3).toString('hex')}`,
  ...extra,
});

t.test('a provisioner killed after CREATE DATABASE, before the migrations, completes on restart', async (t) => {
  const tenant = await createTenant('crash-co');
  t.equal(await statusOf(tenant.tenantId, tenant.position), 'provisioning');

  const crashed = spawnNode(t, 'test/support/provisioner-process.ts', [], fixtureEnv({ LEDGERLINE_FAILPOINTS: 'provisioner-after-create-database' }));
  const exit = await crashed.exited;
  t.same(exit, { code: null, signal: 'SIGKILL' }, 'the provisioner died at its failpoint', { output: crashed.output() });
  t.ok(await databaseExists(ctx, tenant.databaseName), 'the tenant database was created');
  t.same(await tablesOf(ctx, tenant.databaseName), [], 'but has no tables: no migration ran');
  t.same(await eventsOf(tenant.tenantId, 'TenantProvisioned'), [], 'and nothing was recorded');
  t.equal(await statusOf(tenant.tenantId), 'provisioning', 'the tenant still reads as provisioning');

  const restarted = spawnNode(t, 'test/support/provisioner-process.ts', [], fixtureEnv());
  const provisioned = await eventually(
    async () => {
      const rows = await eventsOf(tenant.tenantId, 'TenantProvisioned');
      return rows.length > 0 ? rows : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.equal(provisioned.length, 1, 'one TenantProvisioned event');
  t.equal(provisioned[0]?.data.databaseName, tenant.databaseName);
  t.same(await tablesOf(ctx, tenant.databaseName), TENANT_TABLES, 'the tenant database has the tenant-schema tables');
  const applied = (await queryDatabase(ctx, tenant.databaseName, 'select name from schema_migrations order by name')).rows.map((r: { name: string }) => r.name);
  t.same(applied, ['001_documents.sql'], 'each tenant-schema migration applied once');
  await id.waitUntilActive(admin.token, tenant.tenantId);
  t.pass('the query API reads the tenant as active');
  t.same(await eventsOf(tenant.tenantId, 'TenantProvisioningFailed'), [], 'the crash was not a recorded failure');
  // It provisions in its start-up catch-up, before it subscribes and installs its signal handlers.
  await eventually(async () => restarted.output().includes('provisioner-fixture: started') || undefined, { timeoutMs: 30_000 });
  t.same(await restarted.stop(), { code: 0, signal: null }, 'the restarted provisioner stops cleanly', { output: restarted.output() });
  const [created] = await eventsOf(tenant.tenantId, 'TenantCreated');
  t.ok((await checkpointOf(ctx.pool, `provisioner:${tenant.tenantId}`)) >= created!.global_position, 'its checkpoint for the tenant is past the TenantCreated');
});

t.test('provisioning twice is harmless', async (t) => {
  // The same tenant database again: nothing re-applied, nothing lost.
  const [name] = (await ctx.pool.anyFirst(sql.unsafe`select database_name from tenants where slug = 'crash-co'`)) as string[];
  await queryDatabase(ctx, name!, `insert into projection_checkpoints (projection, position) values ('marker', 42)`);
  await provisionTenantDatabase(ctx.config.DATABASE_URL, name!, ctx.logger);
  await provisionTenantDatabase(ctx.config.DATABASE_URL, name!, ctx.logger);
  t.same((await queryDatabase(ctx, name!, 'select name from schema_migrations')).rows.length, 1, 'no migration ran again');
  t.same(
    (await queryDatabase(ctx, name!, `select position from projection_checkpoints where projection = 'marker'`)).rows,
    [{ position: '42' }],
    'and no data was lost',
  );

  // A fresh database, provisioned by two racing calls and then once more.
  const fresh = `tenant_twice_${randomBytes(4).toString('hex')}`;
  t.teardown(() => ctx.admin(`drop database if exists "${fresh}" with (force)`).then(() => undefined));
  const raced = await Promise.allSettled([1, 2, 3].map(() => provisionTenantDatabase(ctx.config.DATABASE_URL, fresh, ctx.logger)));
  t.same(
    raced.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.status)),
    ['fulfilled', 'fulfilled', 'fulfilled'],
    'three concurrent provisionings all succeed',
  );
  await provisionTenantDatabase(ctx.config.DATABASE_URL, fresh, ctx.logger);
  t.same(await tablesOf(ctx, fresh), TENANT_TABLES);
  t.same((await queryDatabase(ctx, fresh, 'select name from schema_migrations')).rows.length, 1);

  // The projection given TenantCreated again (redelivery, a reset checkpoint): no second event.
  const tenantId = (await ctx.pool.oneFirst(sql.unsafe`select tenant_id from tenants where slug = 'crash-co'`)) as string;
  await ctx.pool.query(sql.unsafe`update projection_checkpoints set position = 0 where projection = ${`provisioner:${tenantId}`}`);
  t.equal(await newProvisioner().catchUp(tenantId, LATEST), 'done');
  t.equal((await eventsOf(tenantId, 'TenantProvisioned')).length, 1, 'still exactly one TenantProvisioned');
});

let provisioner: Projector | undefined;

t.test('a failure appends TenantProvisioningFailed, and the retry succeeds once the cause is gone', async (t) => {
  const tenant = await createTenant('blocked-co');
  // A leftover of a botched restore under the tenant's database name: the first migration collides with it.
  await ctx.admin(`create database "${tenant.databaseName}"`);
  await queryDatabase(ctx, tenant.databaseName, 'create table documents (leftover text)');

  // startProjector runs its first catch-up (here: the failing attempts) before it resolves.
  const starting = parts.project(newProvisioner());
  const failed = await eventually(async () => {
    const rows = await eventsOf(tenant.tenantId, 'TenantProvisioningFailed');
    return rows.length > 0 ? rows : undefined;
  });
  t.equal(failed[0]?.data.attempt, 1, 'the first attempt failed');
  t.match(failed[0]?.data.reason, /001_documents\.sql.*"documents" already exists/, 'with the reason');
  t.same(await eventsOf(tenant.tenantId, 'TenantProvisioned'), []);
  const lastFailure = await eventually(
    async () =>
      ((await ctx.pool.maybeOneFirst(sql.unsafe`
    select last_failure from tenants where tenant_id = ${tenant.tenantId}`)) as string | null) ?? undefined,
  );
  t.match(lastFailure, /already exists/, 'the read model keeps the last failure');
  t.equal(await statusOf(tenant.tenantId), 'provisioning', 'the tenant is still provisioning');

  // Meanwhile everybody else's writes still reach the read side: the failing provisioning holds
  // no transaction open on the main database (an open one would stop the relay, core/eventing/relay.ts).
  const email = `bystander-${randomBytes(3).toString('hex')}@example.com`;
  const bystander = await id.register(email);
  const { token } = await id.login(email);
  const readStarted = performance.now();
  const me = await id.query('GET', '/api/users/me', { token, headers: after(bystander.position) });
  t.equal(me.status, 200, `another user's read-your-writes works while provisioning fails (${Math.round(performance.now() - readStarted)} ms)`);
  t.ok((await eventsOf(tenant.tenantId, 'TenantProvisioned')).length === 0, 'and the tenant was still failing during that read');

  // Nor does it hold up the tenants created after it: each tenant is its own provisioning scope.
  const other = await createTenant('unblocked-co');
  await id.waitUntilActive(admin.token, other.tenantId);
  t.equal((await eventsOf(tenant.tenantId, 'TenantProvisioned')).length, 0, 'another tenant was provisioned while this one kept failing');

  await queryDatabase(ctx, tenant.databaseName, 'drop table documents');
  const started = performance.now();
  await id.waitUntilActive(admin.token, tenant.tenantId);
  t.comment(`active ${Math.round(performance.now() - started)} ms after the cause was removed`);
  provisioner = await starting;
  const provisioned = await eventsOf(tenant.tenantId, 'TenantProvisioned');
  t.equal(provisioned.length, 1, 'then provisioned, by a retry');
  const failures = await eventsOf(tenant.tenantId, 'TenantProvisioningFailed');
  t.ok(
    failures.every((f) => f.global_position < provisioned[0]!.global_position),
    `after ${failures.length} recorded failure(s)`,
  );
  t.same(
    failures.map((f) => f.data.attempt),
    failures.map((_, i) => i + 1),
    'attempts are numbered',
  );
  t.same(await tablesOf(ctx, tenant.databaseName), TENANT_TABLES);
  t.equal(await ctx.pool.maybeOneFirst(sql.unsafe`select last_failure from tenants where tenant_id = ${tenant.tenantId}`), null, 'the failure is cleared');
  t.same(provisioner.status(), {}, 'nothing is set aside');
});

t.test('TenantDeleted drops the database only after the read model shows the tenant deleted', async (t) => {
  const tenant = await createTenant('doomed-co');
  await id.waitUntilActive(admin.token, tenant.tenantId);
  t.ok(await databaseExists(ctx, tenant.databaseName));

  // From here on the provisioner is driven by hand: its catch-up outcome is then deterministic.
  await provisioner?.stop();
  await mainProjector.stop(); // the read side falls behind
  const deleted = await id.command('DELETE', `/api/tenants/${tenant.tenantId}`, { token: admin.token });
  t.equal(deleted.status, 202);
  const probe = newProvisioner();
  t.equal(await probe.catchUp(tenant.tenantId, LATEST), 'paused', 'the provisioner waits for the read side');
  t.ok((await checkpointOf(ctx.pool, `provisioner:${tenant.tenantId}`)) < deleted.body.position, 'its checkpoint stays before the TenantDeleted');
  t.ok(await databaseExists(ctx, tenant.databaseName), 'and the database is still there');
  t.equal(await ctx.pool.oneFirst(sql.unsafe`select status from tenants where tenant_id = ${tenant.tenantId}`), 'active', 'which still serves the tenant');

  mainProjector = await parts.project(mainProjection(parts.services.pool, parts.services.topics));
  const listed = await id.query('GET', '/api/tenants', { token: admin.token, headers: after(deleted.body.position) });
  t.notOk(
    listed.body.items.some((x: { id: string }) => x.id === tenant.tenantId),
    'the read model shows it deleted',
  );
  t.equal(await probe.catchUp(tenant.tenantId, LATEST), 'done', 'then the provisioner goes on');
  t.notOk(await databaseExists(ctx, tenant.databaseName), 'and the database is dropped');
  t.ok((await checkpointOf(ctx.pool, `provisioner:${tenant.tenantId}`)) >= deleted.body.position);
});

t.test('a tenant deleted before it was provisioned does not block provisioning', async (t) => {
  // The provisioner is down (since the last test) while a tenant comes and goes.
  const ghost = await createTenant('ghost-co');
  const gone = await id.command('DELETE', `/api/tenants/${ghost.tenantId}`, { token: admin.token });
  t.equal(gone.status, 202, 'a provisioning tenant may be deleted');
  await id.query('GET', '/api/tenants', { token: admin.token, headers: after(gone.body.position) });
  const next = await createTenant('after-ghost');

  provisioner = await parts.project(newProvisioner());
  await id.waitUntilActive(admin.token, next.tenantId, 20_000);
  t.pass('the next tenant is provisioned');
  await eventually(async () => !(await databaseExists(ctx, ghost.databaseName)) || undefined);
  t.pass('the deleted tenant has no database');
  t.same(await eventsOf(ghost.tenantId, 'TenantProvisioned'), [], 'nor was it marked provisioned');
  t.same(provisioner.status(), {}, 'nothing is set aside');
});
