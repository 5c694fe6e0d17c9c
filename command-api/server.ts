import { bootstrap, onShutdown } from '../core/adapters/process.ts';
import { createServices } from '../core/adapters/services.ts';
import { migrate, MAIN_MIGRATIONS } from '../core/adapters/migrate.ts';
import { startRelay } from '../core/eventing/relay.ts';
import { buildCommandApi } from './app.ts';
import { startPurger } from '../core/eventing/purge.ts';

const { config, logger, secrets } = await bootstrap('command-api');
await migrate(config.DATABASE_URL, MAIN_MIGRATIONS, logger);
const services = await createServices(config, logger, secrets);
await services.eventLog.ensureTopics(Object.values(services.topics), config.TOPIC_PARTITIONS);
const app = await buildCommandApi(services);

// Every command-api instance may take the relay role; an advisory lock elects one publisher.
const producer = config.RELAY_ENABLED ? await services.eventLog.createProducer() : undefined;
const relay = producer
  ? startRelay({ pool: services.pool, connectionUri: config.DATABASE_URL, producer, logger: logger.child({ component: 'relay' }), metrics: services.metrics })
  : undefined;

// Every instance schedules the purge; an advisory lock lets one of them do each round.
const purger = startPurger({ pool: services.pool, config, logger: logger.child({ component: 'purge' }) });

await app.listen({ port: config.COMMAND_API_PORT, host: config.HOST });
onShutdown(logger, async () => {
  await app.close();
  await relay?.stop();
  await purger.stop();
  await services.close();
});
