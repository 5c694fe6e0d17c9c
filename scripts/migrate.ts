// One-shot set-up before the services start (docker-compose's `migrate` service, `npm run migrate`):
// the main database's migrations and the Kafka event topics. Safe to run again: it applies only what
// is missing. Exits 0 when done, 1 on a failure (78 on a bad configuration, from bootstrap).
import { bootstrap } from '../platform/process.ts';
import { migrate, MAIN_MIGRATIONS } from '../platform/migrate.ts';
import { createServices } from '../platform/services.ts';

const { config, logger } = await bootstrap('migrate');
try {
  const started = performance.now();
  logger.info({ database: new URL(config.DATABASE_URL).pathname.slice(1) }, 'applying main-database migrations');
  const applied = await migrate(config.DATABASE_URL, MAIN_MIGRATIONS, logger);
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
