// Gives each test file its own slice of the shared local services (scripts/infra.sh): a fresh
// main database, a Kafka topic prefix and an S3 key prefix, all removed again at teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../core/adapters/config.ts';
import { createDatabasePool, withDatabase, type DatabasePool } from '../../core/adapters/db.ts';
import { allSteps, deleteKafkaPrefix, deleteS3Prefix, dropRunDatabases, ownerComment } from './test-runs.ts';
import { migrate, MAIN_MIGRATIONS } from '../../core/adapters/migrate.ts';
import { createEventLog, topicNames, type EventLog, type Topics } from '../../core/adapters/kafka.ts';
import { createS3Clients, type S3Clients } from '../../core/adapters/s3.ts';
import { createLogger, type Logger } from '../../core/adapters/logger.ts';
import { createTenantServers, MAIN_SERVER } from '../../core/adapters/tenant-servers.ts';

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
  // The owning process, so that the sweep at the start of `npm test` leaves a live run alone.
  await adminQuery(`comment on database ${database} is '${ownerComment(id)}'`);
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
    // Test files register, log in and upload far more from one address than a person would; the
    // limits themselves are tested with their own, low, settings (test/abuse-limits.e2e.test.ts).
    AUTH_RATE_LIMIT_PER_IP: '100000',
    AUTH_RATE_LIMIT_PER_ACCOUNT: '100000',
    UPLOADS_PER_USER: '1000',
    TENANTS_PER_USER: '1000',
    // One tenant server (the test's own cluster) unless a test asks for more: `infra.sh env`
    // exports both local clusters, and only the placement tests need the second one.
    TENANT_SERVERS: '',
    ...overrides,
  };
  const config = loadConfig({ ...process.env, ...env });
  const logger = createLogger(id, config);
  const s3 = createS3Clients(config);
  const servers = createTenantServers(config);
  const otherServers = servers
    .names()
    .filter((name) => name !== MAIN_SERVER)
    .map((name) => servers.serverUri(name));
  const made: { pool?: DatabasePool; eventLog?: EventLog } = {};
  // Registered before anything else can fail: whatever was created is removed, each step even
  // when an earlier one fails (and the sweep catches what a crashed process never tears down).
  t.teardown(() =>
    allSteps([
      [
        'close pool',
        async () => {
          await made.pool?.end();
        },
      ],
      [
        'close Kafka clients',
        async () => {
          await made.eventLog?.close();
        },
      ],
      ['delete S3 objects', () => deleteS3Prefix(s3, config.S3_KEY_PREFIX)],
      ['drop databases', () => dropRunDatabases(BASE.DATABASE_URL, database, otherServers)],
      ['delete topics and groups', () => deleteKafkaPrefix(config.KAFKA_BROKERS, config.TOPIC_PREFIX)],
      [
        'close S3 clients',
        async () => {
          s3.internal.destroy();
          s3.publicSigner.destroy();
        },
      ],
    ]),
  );
  const pool = (made.pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 10 }));
  await migrate(config.DATABASE_URL, MAIN_MIGRATIONS);
  const eventLog = (made.eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: id, logger }));
  const topics = topicNames(config.TOPIC_PREFIX);
  await eventLog.ensureTopics(Object.values(topics), config.TOPIC_PARTITIONS);
  return { id, config, env, logger, pool, eventLog, topics, s3, admin: adminQuery };
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
