// Fixture: the test projection (backbone-projection.ts) run by startProjector in a process of its
// own, so that a test can crash it at a failpoint (LEDGERLINE_FAILPOINTS). Configured by the
// environment: DATABASE_URL, TOPIC_PREFIX, PROBE_NAME, PROBE_SCOPING ('main' | 'tenant'), PROBE_GROUP.
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createEventLog, topicNames } from '../../core/adapters/kafka.ts';
import { probeProjection, type Scoping } from './backbone-projection.ts';
import { fixtureBase, runFixtureProjector } from './fixture-process.ts';

const { config, logger } = fixtureBase('backbone-projector');
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 3 });
const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'backbone-projector', logger });
const projection = probeProjection({
  pool,
  topics: topicNames(config.TOPIC_PREFIX),
  name: process.env.PROBE_NAME ?? 'probe',
  scoping: (process.env.PROBE_SCOPING ?? 'main') as Scoping,
});
await runFixtureProjector({ logger, pool, eventLog, projection, groupId: process.env.PROBE_GROUP ?? 'probe' });
