import type { Config } from './config.ts';
import { createDatabasePool, sql, type DatabasePool } from './db.ts';
import { createEventLog, topicNames, topicOf, type EventLog, type Topics } from './kafka.ts';
import type { Logger } from './logger.ts';
import { fixedSecrets, type LiveSecrets } from './live-secrets.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { checkBucket, createS3Clients, type S3Clients } from './s3.ts';
import type { ReadinessCheck } from './http.ts';
import { createEventStreams, type EventStreams } from '../eventing/command-handler.ts';
import { domainEventRegistry } from '../eventing/event-registry.ts';
import { emailKeyFrom } from '../eventing/email-key.ts';

/** The infrastructure one process talks to, created in one place and closed in one place. */
export type Services = {
  config: Config;
  logger: Logger;
  /** The secrets as they are now (followed from Vault when USE_VAULT=true). */
  secrets: LiveSecrets;
  metrics: Metrics;
  pool: DatabasePool;
  eventLog: EventLog;
  topics: Topics;
  topicOf: (category: string) => string;
  /** The one command path's store: event store, cache of folded streams, appender. */
  store: EventStreams;
  s3: S3Clients;
  readiness: ReadinessCheck[];
  close: () => Promise<void>;
};

export async function createServices(config: Config, logger: Logger, secrets: LiveSecrets = fixedSecrets(config)): Promise<Services> {
  const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: config.DATABASE_POOL_SIZE, name: 'main' });
  const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
  const s3 = createS3Clients(config, secrets.s3Credentials);
  const topics = topicNames(config.TOPIC_PREFIX);
  const topicOfCategory = topicOf(config.TOPIC_PREFIX);
  return {
    config,
    logger,
    secrets,
    pool,
    eventLog,
    s3,
    topics,
    topicOf: topicOfCategory,
    store: createEventStreams(pool, domainEventRegistry, topicOfCategory, { emailKey: emailKeyFrom(config) }),
    metrics: createMetrics(),
    readiness: [
      { name: 'postgres', check: () => pool.oneFirst(sql.unsafe`select 1`) },
      { name: 'kafka', check: () => eventLog.endOffsets(topics.platform) },
      { name: 's3', check: () => checkBucket(s3) },
    ],
    async close() {
      await eventLog.close();
      await pool.end();
      s3.internal.destroy();
      s3.publicSigner.destroy();
      secrets.close();
    },
  };
}
