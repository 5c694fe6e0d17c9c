// Fixture: the real provisioner projection run by startProjector in a process of its own, so that
// a test can crash it at a failpoint (LEDGERLINE_FAILPOINTS=provisioner-after-create-database).
// Configured by the environment: DATABASE_URL, TOPIC_PREFIX, KAFKA_BROKERS and PROVISIONER_GROUP.
import { loadConfig } from '../../core/adapters/config.ts';
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createEventLog, topicNames, topicOf } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { exitOnStrayErrors, onShutdown } from '../../core/adapters/process.ts';
import { startProjector } from '../../core/eventing/projector.ts';
import { domainEventRegistry } from '../../core/eventing/event-registry.ts';
import { createEventStreams } from '../../core/eventing/command-handler.ts';
import { provisionerProjection } from '../../projectors/provisioner/projection.ts';
import { createS3Clients } from '../../core/adapters/s3.ts';

const config = loadConfig(process.env);
const logger = createLogger('provisioner-fixture', config);
exitOnStrayErrors(logger);
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 3 });
const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'provisioner-fixture', logger });
const projection = provisionerProjection({
  store: createEventStreams(pool, domainEventRegistry, topicOf(config.TOPIC_PREFIX)),
  mainUri: config.DATABASE_URL,
  topics: topicNames(config.TOPIC_PREFIX),
  logger,
  s3: createS3Clients(config),
});
const projector = await startProjector({
  eventLog,
  projection,
  groupId: process.env.PROVISIONER_GROUP ?? `${config.TOPIC_PREFIX}ledgerline.provisioner`,
  logger,
  metrics: createMetrics(),
  sweepIntervalMs: 200,
  onFatal: (err) => {
    logger.fatal({ err }, 'consumer crashed');
    process.exit(70);
  },
});
process.stdout.write('provisioner-fixture: started\n');
onShutdown(logger, async () => {
  await projector.stop();
  await eventLog.close();
  await pool.end();
});
