import { bootstrap, onShutdown } from '../../core/adapters/process.ts';
import { createServices, type Services } from '../../core/adapters/services.ts';
import { migrate, MAIN_MIGRATIONS } from '../../core/adapters/migrate.ts';
import { createApp, operations } from '../../core/adapters/http.ts';
import { startProjector, type Projection, type Projector } from '../../core/eventing/projector.ts';

/**
 * Runs projections in one process: the read side's health, readiness, metrics and each
 * projection's set-aside scopes on PROJECTOR_PORT (defaultPort unless configured).
 */
export async function runProjectors(
  service: string,
  defaultPort: number,
  build: (services: Services) => Promise<Projection[]>,
  /** Work beside the projections (e.g. the webhook delivery worker), stopped before them. */
  startBackground?: (services: Services) => { stop: () => Promise<void> },
): Promise<void> {
  const { config, logger, secrets } = await bootstrap(service);
  await migrate(config.DATABASE_URL, MAIN_MIGRATIONS, logger);
  const services = await createServices(config, logger, secrets);
  await services.eventLog.ensureTopics(Object.values(services.topics), config.TOPIC_PARTITIONS);
  const projections = await build(services);
  const projectors: Projector[] = [];
  const fatal = (err: Error) => {
    logger.fatal({ err }, 'consumer crashed for good; exiting so the supervisor restarts us');
    process.exit(70);
  };
  for (const projection of projections) {
    projectors.push(
      await startProjector({
        eventLog: services.eventLog,
        projection,
        logger: logger.child({ projection: projection.name }),
        metrics: services.metrics,
        groupId: `${config.TOPIC_PREFIX}ledgerline.${projection.name}`,
        onFatal: fatal,
        registry: services.pool,
      }),
    );
  }
  const background = startBackground?.(services);
  const app = await createApp(logger);
  await app.register(operations, { checks: services.readiness, metrics: services.metrics, service, operatorToken: config.OPERATOR_TOKEN });
  // Per projection: each scope's position (per tenant for the tenant projection) and the scopes set aside.
  app.get('/status', async () =>
    Object.fromEntries(
      await Promise.all(
        projections.map(async (p, i) => [
          p.name,
          {
            positions: (await p.positions?.()) ?? {},
            setAside: projectors[i]?.status() ?? {},
          },
        ]),
      ),
    ),
  );
  await app.listen({ port: config.PROJECTOR_PORT || defaultPort, host: config.HOST });
  onShutdown(logger, async () => {
    await app.close();
    await background?.stop();
    for (const projector of projectors) await projector.stop();
    await services.close();
  });
}
