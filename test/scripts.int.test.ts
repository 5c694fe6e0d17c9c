// The operator scripts, run as an operator would (child processes, configured by the environment)
// against this test's own database, topics and key prefix: migrate, seed (idempotent) and the
// development-only reset.
import t from 'tap';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { adminQuery, createTestContext, uniqueId } from './support/harness.ts';
import { databaseExists, queryDatabase, runNode } from './support/identity-helpers.ts';
import { sql, withDatabase } from '../core/adapters/db.ts';
import { createServices } from '../core/adapters/services.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { buildCommandApi } from '../command-api/app.ts';
import { client } from './support/system.ts';

const ctx = await createTestContext(t);
const ADMIN = { email: 'seed-admin@example.com', password: 'seed admin password 1' };
const seedArgs = ['--create-admin', '--create-test-tenant', '--admin-email', ADMIN.email, '--admin-password', ADMIN.password];
const eventCount = async () => Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events`));

async function kafkaAdmin() {
  const admin = new Kafka({ brokers: ctx.config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}

t.test('migrate: a fresh database and topic prefix get the migrations and the topics; a second run applies nothing', async (t) => {
  const id = uniqueId('m');
  const database = `ll_${id}`;
  const prefix = `${id}.`;
  await adminQuery(`create database ${database}`);
  const admin = await kafkaAdmin();
  t.teardown(async () => {
    await adminQuery(`drop database if exists ${database} with (force)`);
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });
  const env = { ...ctx.env, DATABASE_URL: withDatabase(ctx.config.DATABASE_URL, database), TOPIC_PREFIX: prefix, LOG_LEVEL: 'info' };

  const first = await runNode(t, 'scripts/migrate.ts', [], env);
  t.equal(first.code, 0, 'exits 0', { output: first.output });
  t.match(first.output, /migrations applied/);
  t.match(first.output, /Kafka topics ready/);
  const applied = (await queryDatabase(ctx, database, 'select name from schema_migrations order by name')).rows.map((r: { name: string }) => r.name);
  t.ok(applied.includes('001_event_store.sql') && applied.includes('002_identity.sql'), `migrations recorded: ${applied.join(', ')}`);
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix)).sort();
  t.same(topics, [`${prefix}ledgerline.documents.events.v1`, `${prefix}ledgerline.platform.events.v1`], 'the event topics exist');
  const [metadata] = (await admin.fetchTopicMetadata({ topics: [`${prefix}ledgerline.platform.events.v1`] })).topics;
  t.equal(metadata?.partitions.length, ctx.config.TOPIC_PARTITIONS, 'with the configured partitions');

  const second = await runNode(t, 'scripts/migrate.ts', [], env);
  t.equal(second.code, 0, 'a second run exits 0 too', { output: second.output });
  t.match(second.output, /main database already up to date/);
});

t.test('seed: creates the admin and the test tenant once; a second run changes nothing and says so', async (t) => {
  const first = await runNode(t, 'scripts/seed.ts', seedArgs, ctx.env);
  t.equal(first.code, 0, 'exits 0', { output: first.output });
  t.match(first.output, new RegExp(`admin ${ADMIN.email}: registered`));
  t.match(first.output, /tenant test: created/);
  t.notOk(first.output.includes(ADMIN.password), 'the password is never printed');
  const after = await eventCount();
  const types = (await ctx.pool.anyFirst(sql.unsafe`select type from events order by global_position`)) as string[];
  t.same(
    types,
    ['EmailClaimed', 'UserRegistered', 'LoginSucceeded', 'SlugClaimed', 'TenantCreated', 'TenantPlaced', 'MemberAdded', 'LoggedOut'],
    'the same events as through the API (its own login and logout are on the audit trail too)',
  );
  const userId = await ctx.pool.oneFirst(sql.unsafe`select data->>'userId' from events where type = 'UserRegistered'`);
  const founder = await ctx.pool.one(sql.unsafe`select data->>'userId' as user_id, data->>'role' as role from events where type = 'MemberAdded'`);
  t.same(founder, { user_id: userId, role: 'admin' }, "the admin is the test tenant's admin");
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from sessions where revoked_at is null`)), 0, "the seed's own session was ended");

  const second = await runNode(t, 'scripts/seed.ts', seedArgs, ctx.env);
  t.equal(second.code, 0, 'the second run exits 0', { output: second.output });
  t.match(second.output, /already registered .*unchanged/);
  t.match(second.output, /tenant test: already exists .*unchanged/);
  t.match(second.output, /nothing to do/);
  t.equal(await eventCount(), after, 'and appends nothing');

  // The admin can log in with the given password, through a command API of the same database.
  const services = await createServices(loadConfig({ ...process.env, ...ctx.env }), ctx.logger);
  const api = await buildCommandApi(services);
  t.teardown(async () => {
    await api.close();
    await services.close();
  });
  const login = await client(api)('POST', '/api/auth/login', { body: ADMIN });
  t.equal(login.status, 200, 'the seeded admin logs in');

  const usage = await runNode(t, 'scripts/seed.ts', [], ctx.env);
  t.not(usage.code, 0, 'without an action it prints the usage and fails');
  t.match(usage.output, /usage:/);
});

t.test('reset-dev refuses in production and without --yes', async (t) => {
  const before = await eventCount();
  t.ok(before > 0);
  const production = await runNode(t, 'scripts/reset-dev.ts', ['--yes'], { ...ctx.env, NODE_ENV: 'production' });
  t.equal(production.code, 1, 'exit 1 under NODE_ENV=production', { output: production.output });
  t.match(production.output, /refusing to run: NODE_ENV=production/);
  const unconfirmed = await runNode(t, 'scripts/reset-dev.ts', [], ctx.env);
  t.equal(unconfirmed.code, 1, 'exit 1 without --yes', { output: unconfirmed.output });
  t.match(unconfirmed.output, /--yes/);
  t.match(unconfirmed.output, new RegExp(ctx.config.TOPIC_PREFIX.replace(/\./g, '\\.')), 'naming what it would delete');
  t.equal(await eventCount(), before, 'nothing was deleted');
});

t.test('reset-dev --yes empties this installation: tenant databases, main schema, topics, objects', async (t) => {
  // What a provisioner and an upload would have left behind.
  const tenantDatabase = (await ctx.pool.oneFirst(sql.unsafe`select data->>'databaseName' from events where type = 'TenantCreated'`)) as string;
  await adminQuery(`create database "${tenantDatabase}"`);
  const key = `${ctx.config.S3_KEY_PREFIX}files/left-over`;
  await ctx.s3.internal.send(new PutObjectCommand({ Bucket: ctx.s3.bucket, Key: key, Body: 'left over' }));
  const producer = await ctx.eventLog.createProducer();
  await producer.publish(ctx.topics.platform, [{ key: 'k', value: '{}', headers: {} }]);
  await producer.close();
  const endOffset = async () => (await ctx.eventLog.endOffsets(ctx.topics.platform)).reduce((sum, p) => sum + Number(p.high), 0);
  t.equal(await endOffset(), 1, 'the platform topic holds a message');

  const reset = await runNode(t, 'scripts/reset-dev.ts', ['--yes'], ctx.env, 90_000);
  t.equal(reset.code, 0, 'exits 0', { output: reset.output });
  t.notOk(await databaseExists(ctx, tenantDatabase), 'the tenant database is dropped');
  t.equal(await eventCount(), 0, 'the event store is empty');
  const applied = (await ctx.pool.anyFirst(sql.unsafe`select name from schema_migrations`)) as string[];
  t.ok(applied.length >= 2, 'and migrated again');
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from credentials`)), 0);
  t.equal(await endOffset(), 0, 'the topics were deleted and recreated empty');
  t.equal((await ctx.eventLog.endOffsets(ctx.topics.documents)).length, Number(ctx.env.TOPIC_PARTITIONS), 'with their partitions');
  const listed = await ctx.s3.internal.send(new ListObjectsV2Command({ Bucket: ctx.s3.bucket, Prefix: ctx.config.S3_KEY_PREFIX }));
  t.equal(listed.KeyCount ?? 0, 0, 'the objects under the key prefix are gone');

  const reseeded = await runNode(t, 'scripts/seed.ts', seedArgs, ctx.env);
  t.equal(reseeded.code, 0, 'and the seed starts over', { output: reseeded.output });
  t.match(reseeded.output, /registered/);
});
