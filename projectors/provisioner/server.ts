import { runProjectors } from '../shared/run.ts';
import { domainEventRegistry } from '../../platform/event-registry.ts';
import { provisionerProjection } from './projection.ts';

await runProjectors('provisioner', 4996, async ({ pool, topics, topicOf, config, logger }) => [
  provisionerProjection({ store: { pool, registry: domainEventRegistry, topicOf }, mainUri: config.DATABASE_URL, topics, logger }),
]);
