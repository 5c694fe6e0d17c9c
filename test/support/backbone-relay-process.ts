// Fixture: the outbox relay alone, in a process of its own, against the test database and topics
// given in the environment (DATABASE_URL, KAFKA_BROKERS); LEDGERLINE_FAILPOINTS may make it kill itself.
import { loadConfig } from '../../core/adapters/config.ts';
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createEventLog } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { exitOnStrayErrors, onShutdown } from '../../core/adapters/process.ts';
import { startRelay } from '../../core/eventing/relay.ts';

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
