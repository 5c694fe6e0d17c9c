// Fixture: the mailer alone, in a process of its own, against the test database given in the
// environment (DATABASE_URL, SMTP_URL, MAILER_*); LEDGERLINE_FAILPOINTS may make it kill itself.
import { loadConfig } from '../../core/adapters/config.ts';
import { createDatabasePool } from '../../core/adapters/db.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { onShutdown } from '../../core/adapters/process.ts';
import { startMailer } from '../../projectors/notifications/mailer.ts';

const config = loadConfig(process.env);
const logger = createLogger('mailer-fixture', config);
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 2 });
const mailer = startMailer({
  pool,
  smtpUrl: config.SMTP_URL,
  from: config.SMTP_FROM,
  logger,
  metrics: createMetrics(),
  pollMs: config.MAILER_POLL_MS,
  leaseMs: config.MAILER_LEASE_MS,
});
onShutdown(logger, async () => {
  await mailer.stop();
  await pool.end();
});
