// One-shot set-up before the services start (docker-compose's `migrate` service, `npm run migrate`):
// the main database's migrations and the Kafka event topics. Safe to run again: it applies only what
// is missing. Exits 0 when done, 1 on a failure (78 on a bad configuration, from bootstrap).
//   npm run migrate -- [--dry-run] [--status] [--history] [--lock-wait-ms N]
// The flags work as in `npm run migrate:tenants` and then leave the topics alone.
import { parseArgs } from 'node:util';
import { bootstrap } from '../core/adapters/process.ts';
import { MAIN_MIGRATIONS } from '../core/adapters/migrate.ts';
import { migrateDatabase, modeOf } from '../core/adapters/migration-runner.ts';
import { printSummary } from '../core/adapters/operator-progress.ts';
import { createServices } from '../core/adapters/services.ts';

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean' },
    status: { type: 'boolean' },
    history: { type: 'boolean' },
    'lock-wait-ms': { type: 'string', default: '60000' },
  },
});
const mode = modeOf(values);
const { config, logger } = await bootstrap('migrate');
try {
  const started = performance.now();
  const database = new URL(config.DATABASE_URL).pathname.slice(1);
  logger.info({ database, mode }, 'applying main-database migrations');
  const outcome = await migrateDatabase(mode, config.DATABASE_URL, MAIN_MIGRATIONS, { logger, lockWaitMs: Number(values['lock-wait-ms']) });
  if (!outcome.ok) throw new Error(outcome.error);
  if (mode !== 'apply') {
    printSummary(logger, `migrate ${mode}: main database`, [{ database, ...outcome }]);
    process.exit(0);
  }
  const applied = outcome.applied ?? [];
  logger.info({ applied: applied.length, migrations: applied }, applied.length ? 'migrations applied' : 'main database already up to date');

  const services = await createServices(config, logger);
  try {
    const topics = Object.values(services.topics);
    logger.info({ topics, partitions: config.TOPIC_PARTITIONS }, 'ensuring Kafka topics');
    await services.eventLog.ensureTopics(topics, config.TOPIC_PARTITIONS);
    logger.info({ topics }, 'Kafka topics ready');
  } finally {
    await services.close();
  }
  logger.info({ ms: Math.round(performance.now() - started) }, 'migrate done');
  process.exit(0);
} catch (err) {
  logger.fatal({ err }, 'migrate failed');
  process.exit(1);
}
