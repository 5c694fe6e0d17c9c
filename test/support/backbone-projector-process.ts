// Fixture: the test projection (backbone-projection.ts) run by startProjector in a process of its
// own, so that a test can crash it at a failpoint (LEDGERLINE_FAILPOINTS). Configured by the
// environment: DATABASE_URL, TOPIC_PREFIX, PROBE_NAME, PROBE_SCOPING ('main' | 'tenant'), PROBE_GROUP.
import { loadConfig } from '../../core/adapters/config.ts';
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createEventLog, topicNames } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { exitOnStrayErrors, onShutdown } from '../../core/adapters/process.ts';
import { startProjector } from '../../core/eventing/projector.ts';
import { probeProjection, type Scoping } from './backbone-projection.ts';

const config = loadConfig(process.env);
const logger = createLogger('backbone-projector', config);
exitOnStrayErrors(logger);
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 3 });
const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'backbone-projector', logger });
const projection = probeProjection({
  pool,
  topics: topicNames(config.TOPIC_PREFIX),
  name: process.env.PROBE_NAME ?? 'probe',
  scoping: (process.env.PROBE_SCOPING ?? 'main') as Scoping,
});
const projector = await startProjector({
  eventLog,
  projection,
  groupId: process.env.PROBE_GROUP ?? 'probe',
  logger,
  metrics: createMetrics(),
  sweepIntervalMs: 200,
  onFatal: (err) => {
    logger.fatal({ err }, 'consumer crashed');
    process.exit(70);
  },
});
onShutdown(logger, async () => {
  await projector.stop();
  await eventLog.close();
  await pool.end();
});
