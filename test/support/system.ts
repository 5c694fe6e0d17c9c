// The whole system in one test process: command API and query API (Fastify inject), the relay
// and every projector, wired to the test context's own database, topics and key prefix.
import { createServices, type Services } from '../../platform/services.ts';
import { startRelay } from '../../platform/relay.ts';
import { startProjector, type Projection, type Projector } from '../../platform/projector.ts';
import { domainEventRegistry } from '../../platform/event-registry.ts';
import { loadConfig } from '../../platform/config.ts';
import type { App } from '../../platform/http.ts';
import { buildCommandApi } from '../../command-api/app.ts';
import { buildQueryApi } from '../../query-api/app.ts';
import { auditProjection, mainProjection } from '../../projectors/main/projection.ts';
import { provisionerProjection } from '../../projectors/provisioner/projection.ts';
import { tenantProjection } from '../../projectors/tenant/projection.ts';
import { fileJanitorProjection } from '../../projectors/tenant/file-janitor.ts';
import { createTenantPools } from '../../platform/tenant-pools.ts';
import type { TestContext } from './harness.ts';

export type System = { command: App; query: App; services: Services; projectors: Projector[]; stop: () => Promise<void> };

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export async function startSystem(t: Teardown, ctx: TestContext, extraProjections: (services: Services) => Projection[] = () => []): Promise<System> {
  const config = loadConfig({ ...process.env, ...ctx.env });
  const services = await createServices(config, ctx.logger);
  const producer = await services.eventLog.createProducer();
  const relay = startRelay({ pool: services.pool, connectionUri: config.DATABASE_URL, producer, logger: ctx.logger, metrics: services.metrics, pollIntervalMs: 200 });
  const store = { pool: services.pool, registry: domainEventRegistry, topicOf: services.topicOf };
  const tenantPools = createTenantPools({ mainUri: config.DATABASE_URL, poolSize: 2, maxPools: 20 });
  const projections: Projection[] = [
    mainProjection(services.pool, services.topics),
    auditProjection(services.pool, services.topics),
    provisionerProjection({ store, mainUri: config.DATABASE_URL, topics: services.topics, logger: ctx.logger }),
    tenantProjection({ pool: services.pool, tenantPools, topics: services.topics }),
    fileJanitorProjection({ store, s3: services.s3, topics: services.topics }),
    ...extraProjections(services),
  ];
  const projectors: Projector[] = [];
  for (const projection of projections) {
    projectors.push(await startProjector({
      eventLog: services.eventLog, projection, logger: ctx.logger, metrics: services.metrics,
      groupId: `${config.TOPIC_PREFIX}ledgerline.${projection.name}`, sweepIntervalMs: 500,
      onFatal: (err) => { throw err; },
    }));
  }
  const command = await buildCommandApi(services);
  const query = await buildQueryApi(services);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await command.close();
    await query.close();
    for (const projector of projectors) await projector.stop();
    await relay.stop();
    await tenantPools.closeAll();
    await services.close();
  };
  t.teardown(stop);
  return { command, query, services, projectors, stop };
}

/** A small HTTP client over inject: JSON in, JSON out, with the last command's position kept. */
export function client(app: App) {
  return async function call(method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const response = await app.inject({
      method: method as 'GET', url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
    const body = response.body ? (() => { try { return JSON.parse(response.body); } catch { return response.body; } })() : undefined;
    return { status: response.statusCode, body, headers: response.headers };
  };
}
