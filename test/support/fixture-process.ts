// What the projector fixture processes share: configuration, logger, pool and event log from the
// environment, then one projection run by startProjector (exit 70 when its consumer dies for
// good, as the real processes do) until SIGTERM.
import { loadConfig } from '../../core/adapters/config.ts';
import type { DatabasePool } from '../../core/adapters/db.ts';
import type { EventLog } from '../../core/adapters/kafka.ts';
import { createLogger, type Logger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { exitOnStrayErrors, onShutdown } from '../../core/adapters/process.ts';
import { startProjector, type Projection } from '../../core/eventing/projector.ts';

export function fixtureBase(name: string) {
  const config = loadConfig(process.env);
  const logger = createLogger(name, config);
  exitOnStrayErrors(logger);
  return { config, logger };
}

export async function runFixtureProjector(options: {
  logger: Logger;
  pool: DatabasePool;
  eventLog: EventLog;
  projection: Projection;
  groupId: string;
}): Promise<void> {
  const { logger, pool, eventLog } = options;
  const projector = await startProjector({
    eventLog,
    projection: options.projection,
    groupId: options.groupId,
    logger,
    metrics: createMetrics(),
    sweepIntervalMs: 200,
    onFatal: (err) => {
      logger.fatal({ err }, 'consumer crashed');
      process.exit(70);
    },
  });
  onShutdown(logger, async () => {
    await projector.stop();
    await eventLog.close();
    await pool.end();
  });
}
