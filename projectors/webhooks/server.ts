import { runProjectors } from '../shared/run.ts';
import { webhookProjection } from './projection.ts';
import { startDeliveryWorker } from './delivery-worker.ts';

// The projection records what to deliver; the worker beside it sends, retries and gives up.
await runProjectors(
  'projector-webhooks',
  4994,
  async ({ pool, topics }) => [webhookProjection(pool, topics)],
  ({ store, config, logger, metrics }) => startDeliveryWorker({ store, config, logger: logger.child({ component: 'webhook-delivery' }), metrics }),
);
