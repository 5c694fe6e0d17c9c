// Fixture: the real provisioner projection run by startProjector in a process of its own, so that
// a test can crash it at a failpoint (LEDGERLINE_FAILPOINTS=provisioner-after-create-database).
// Configured by the environment: DATABASE_URL, TOPIC_PREFIX, KAFKA_BROKERS and PROVISIONER_GROUP.
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createEventLog, topicNames, topicOf } from '../../core/adapters/kafka.ts';
import { domainEventRegistry } from '../../core/eventing/event-registry.ts';
import { createEventStreams } from '../../core/eventing/command-handler.ts';
import { provisionerProjection } from '../../projectors/provisioner/projection.ts';
import { createS3Clients } from '../../core/adapters/s3.ts';
import { fixtureBase, runFixtureProjector } from './fixture-process.ts';

const { config, logger } = fixtureBase('provisioner-fixture');
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 3 });
const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'provisioner-fixture', logger });
const projection = provisionerProjection({
  store: createEventStreams(pool, domainEventRegistry, topicOf(config.TOPIC_PREFIX)),
  mainUri: config.DATABASE_URL,
  topics: topicNames(config.TOPIC_PREFIX),
  logger,
  s3: createS3Clients(config),
});
await runFixtureProjector({ logger, pool, eventLog, projection, groupId: process.env.PROVISIONER_GROUP ?? `${config.TOPIC_PREFIX}ledgerline.provisioner` });
process.stdout.write('provisioner-fixture: started\n');
