// Fixture: the outbox relay alone, in a process of its own, against the test database and topics
// given in the environment (DATABASE_URL, KAFKA_BROKERS); LEDGERLINE_FAILPOINTS may make it kill itself.
import { loadConfig } from '../../platform/config.ts';
import { createDatabasePool } from '../../platform/db.ts';
import { createEventLog } from '../../platform/kafka.ts';
import { createLogger } from '../../platform/logger.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { exitOnStrayErrors, onShutdown } from '../../platform/process.ts';
import { startRelay } from '../../platform/relay.ts';

const config = loadConfig(process.env);
const logger = createLogger('backbone-relay', config);
exitOnStrayErrors(logger);
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 2 });
const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'backbone-relay', logger });
const producer = await eventLog.createProducer();
const relay = startRelay({ pool, connectionUri: config.DATABASE_URL, producer, logger, metrics: createMetrics(), pollIntervalMs: 100 });
onShutdown(logger, async () => {
  await relay.stop();
  await eventLog.close();
  await pool.end();
});
