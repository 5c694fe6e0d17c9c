// Gives each test file its own slice of the shared local services (scripts/infra.sh): a fresh
// main database, a Kafka topic prefix and an S3 key prefix, all removed again at teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '../../platform/config.ts';
import { createDatabasePool, sql, withDatabase, type DatabasePool } from '../../platform/db.ts';
import { migrate, MAIN_MIGRATIONS } from '../../platform/migrate.ts';
import { createEventLog, topicNames, type EventLog, type Topics } from '../../platform/kafka.ts';
import { createS3Clients, type S3Clients } from '../../platform/s3.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';

export type TestContext = {
  id: string;
  config: Config;
  env: Record<string, string>;
  logger: Logger;
  pool: DatabasePool;
  eventLog: EventLog;
  topics: Topics;
  s3: S3Clients;
  /** Runs SQL on the server as the admin (create/drop databases, inspect tenant databases). */
  admin: (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
};

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

const BASE = loadConfig({ ...process.env, NODE_ENV: 'test' });

/** A unique id per test file run, safe in database names, topic names and S3 keys. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: BASE.DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

export async function createTestContext(t: Teardown, overrides: Record<string, string> = {}): Promise<TestContext> {
  const id = uniqueId();
  const database = `ll_${id}`;
  await adminQuery(`create database ${database}`);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: withDatabase(BASE.DATABASE_URL, database),
    TOPIC_PREFIX: `${id}.`,
    TOPIC_PARTITIONS: '3',
    S3_KEY_PREFIX: `${id}/`,
    BCRYPT_COST: '4',
    COMMAND_API_PORT: '0',
    QUERY_API_PORT: '0',
    ...overrides,
  };
  const config = loadConfig({ ...process.env, ...env });
  const logger = createLogger(id, config);
  const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 10 });
  await migrate(config.DATABASE_URL, MAIN_MIGRATIONS);
  const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: id, logger });
  const topics = topicNames(config.TOPIC_PREFIX);
  await eventLog.ensureTopics(Object.values(topics), config.TOPIC_PARTITIONS);
  const s3 = createS3Clients(config);

  t.teardown(async () => {
    // Tenant databases this test provisioned are dropped with it.
    const tenantDatabases = await pool.anyFirst(
      sql.unsafe`select distinct data->>'databaseName' from events where type = 'TenantCreated'`,
    ).catch(() => []) as string[];
    await pool.end();
    await eventLog.close();
    await deletePrefix(s3, config.S3_KEY_PREFIX);
    for (const name of [...tenantDatabases.filter(Boolean), database]) {
      await adminQuery(`drop database if exists "${name.replace(/"/g, '')}" with (force)`);
    }
    await deleteTopics(config.KAFKA_BROKERS, Object.values(topics));
  });
  return { id, config, env, logger, pool, eventLog, topics, s3, admin: adminQuery };
}

async function deletePrefix(s3: S3Clients, prefix: string): Promise<void> {
  if (!prefix) return;
  for (;;) {
    const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys } }));
  }
}

async function deleteTopics(brokers: string, topics: string[]): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
}

/** Polls `probe` until it returns a non-undefined value (bounded): for asynchronous outcomes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
