// The whole system in one test process: command API and query API (Fastify inject), the relay
// and every projector, wired to the test context's own database, topics and key prefix.
import { createServices, type Services } from '../../core/adapters/services.ts';
import { randomUUID } from 'node:crypto';
import { startRelay, type Relay } from '../../core/eventing/relay.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import { startProjector, type Projection, type Projector } from '../../core/eventing/projector.ts';
import { loadConfig, type Config } from '../../core/adapters/config.ts';
import type { App } from '../../core/adapters/http.ts';
import { buildCommandApi } from '../../command-api/app.ts';
import { buildQueryApi } from '../../query-api/app.ts';
import { auditProjection, mainProjection } from '../../projectors/main/projection.ts';
import { provisionerProjection } from '../../projectors/provisioner/projection.ts';
import { tenantProjection } from '../../projectors/tenant/projection.ts';
import { fileJanitorProjection } from '../../projectors/tenant/file-janitor.ts';
import { notificationsProjection } from '../../projectors/notifications/projection.ts';
import { createTenantPools } from '../../core/adapters/tenant-pools.ts';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';
import { webhookProjection } from '../../projectors/webhooks/projection.ts';
import { startDeliveryWorker, type DeliveryWorker } from '../../projectors/webhooks/delivery-worker.ts';
import type { TestContext } from './harness.ts';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export type Parts = {
  services: Services;
  relay: Relay;
  command: App;
  query: App;
  /** Starts one projection in this process (its own consumer group unless `groupId` is given). */
  project: (projection: Projection, groupId?: string) => Promise<Projector>;
  /** Starts a webhook delivery worker in this process (stopped before the projectors). */
  deliver: (config?: Config) => DeliveryWorker;
  stop: () => Promise<void>;
};

/**
 * The system without its projectors: services, relay and both APIs. A test starts the
 * projections it wants (or runs one in a child process), e.g. to leave the provisioner out.
 */
export async function startParts(t: Teardown, ctx: TestContext, logger: Logger = ctx.logger): Promise<Parts> {
  const config = loadConfig({ ...process.env, ...ctx.env });
  const services = await createServices(config, logger);
  const producer = await services.eventLog.createProducer();
  const relay = startRelay({ pool: services.pool, connectionUri: config.DATABASE_URL, producer, logger, metrics: services.metrics, pollIntervalMs: 100 });
  const command = await buildCommandApi(services);
  const query = await buildQueryApi(services);
  const projectors: Projector[] = [];
  const workers: DeliveryWorker[] = [];
  // A consumer that crashed for good fails the test at its teardown, with the error; thrown from
  // kafkajs's event handler it would be an uncaught exception that kills the whole test file.
  const crashes: Error[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await command.close();
    await query.close();
    for (const worker of workers) await worker.stop();
    for (const projector of projectors) await projector.stop();
    await relay.stop();
    await services.close();
    if (crashes.length > 0) throw new Error(`a projector's Kafka consumer crashed for good: ${crashes.map((e) => e.message).join('; ')}`);
  };
  t.teardown(stop);
  return {
    services,
    relay,
    command,
    query,
    stop,
    deliver(workerConfig = config) {
      const worker = startDeliveryWorker({ store: services.store, config: workerConfig, logger, metrics: services.metrics });
      workers.push(worker);
      return worker;
    },
    async project(projection, groupId = `${config.TOPIC_PREFIX}ledgerline.${projection.name}.${randomUUID().slice(0, 8)}`) {
      const projector = await startProjector({
        eventLog: services.eventLog,
        projection,
        logger,
        metrics: services.metrics,
        groupId,
        sweepIntervalMs: 200,
        registry: services.pool,
        onFatal: (err) => {
          crashes.push(err);
          logger.error({ err, projection: projection.name }, 'consumer crashed for good');
        },
      });
      projectors.push(projector);
      return projector;
    },
  };
}

export type System = {
  command: App;
  query: App;
  services: Services;
  projectors: Projector[];
  webhookWorker: DeliveryWorker;
  deliver: Parts['deliver'];
  stop: () => Promise<void>;
};

/** Every part: relay, both APIs and all the projections of the real processes. */
export async function startSystem(t: Teardown, ctx: TestContext, extraProjections: (services: Services) => Projection[] = () => []): Promise<System> {
  const parts = await startParts(t, ctx);
  const { services } = parts;
  const tenantPools = createTenantPools({ servers: createTenantServers(services.config), poolSize: 2, maxPools: 20 });
  t.teardown(() => tenantPools.closeAll());
  const { store } = services;
  const projections: Projection[] = [
    mainProjection(services.pool, services.topics),
    auditProjection(services.pool, services.topics),
    provisionerProjection({
      store,
      mainUri: services.config.DATABASE_URL,
      servers: createTenantServers(services.config),
      topics: services.topics,
      logger: ctx.logger,
      s3: services.s3,
      tenantMigrations: services.config.TENANT_MIGRATIONS_DIR,
    }),
    tenantProjection({ pool: services.pool, tenantPools, topics: services.topics }),
    fileJanitorProjection({ store, s3: services.s3, topics: services.topics }),
    webhookProjection(services.pool, services.topics),
    notificationsProjection(services.pool, services.topics),
    ...extraProjections(services),
  ];
  const projectors: Projector[] = [];
  for (const projection of projections) {
    projectors.push(await parts.project(projection, `${services.config.TOPIC_PREFIX}ledgerline.${projection.name}`));
  }
  const webhookWorker = parts.deliver();
  return { command: parts.command, query: parts.query, services, projectors, webhookWorker, deliver: parts.deliver, stop: parts.stop };
}
/** A small HTTP client over inject: JSON in, JSON out, with the last command's position kept. */
export function client(app: App) {
  return async function call(method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
    const body = response.body
      ? (() => {
          try {
            return JSON.parse(response.body);
          } catch {
            return response.body;
          }
        })()
      : undefined;
    return { status: response.statusCode, body, headers: response.headers };
  };
}
