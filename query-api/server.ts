import { bootstrap, onShutdown } from '../core/adapters/process.ts';
import { createServices } from '../core/adapters/services.ts';
import { buildQueryApi } from './app.ts';

const { config, logger, secrets } = await bootstrap('query-api');
const services = await createServices(config, logger, secrets);
const app = await buildQueryApi(services);
await app.listen({ port: config.QUERY_API_PORT, host: config.HOST });
onShutdown(logger, async () => {
  await app.close();
  await services.close();
});
