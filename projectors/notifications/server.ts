import { runProjectors } from '../shared/run.ts';
import { startMailer } from './mailer.ts';
import { notificationsProjection } from './projection.ts';

// The notifications projection and, beside it, the mailer that drains the email outbox it fills
// (MAILER_ENABLED=false leaves the outbox to a mailer elsewhere).
await runProjectors(
  'projector-notifications',
  4993,
  async ({ pool, topics }) => [notificationsProjection(pool, topics)],
  ({ pool, config, logger, metrics }) =>
    config.MAILER_ENABLED
      ? startMailer({
          pool,
          smtpUrl: config.SMTP_URL,
          from: config.SMTP_FROM,
          logger: logger.child({ worker: 'mailer' }),
          metrics,
          pollMs: config.MAILER_POLL_MS,
          leaseMs: config.MAILER_LEASE_MS,
        })
      : { stop: async () => {} },
);
