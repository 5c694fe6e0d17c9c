import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { readVaultSecrets } from './secrets.ts';

/** Loads the configuration (from Vault too when USE_VAULT=true); a bad setting ends the process. */
export async function bootstrap(service: string, env: Record<string, string | undefined> = process.env): Promise<{ config: Config; logger: Logger }> {
  try {
    const useVault = /^(true|1|yes)$/i.test(env.USE_VAULT ?? '');
    const secrets = useVault ? await readVaultSecrets(env) : {};
    const config = loadConfig(env, secrets);
    const logger = createLogger(service, config);
    exitOnStrayErrors(logger);
    logger.info({ env: config.NODE_ENV, vault: useVault }, 'configuration loaded');
    return { config, logger };
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `cannot start ${service}: ${(err as Error).message}`;
    process.stderr.write(`${JSON.stringify({ level: 60, service, msg: message })}\n`);
    process.exit(78); // EX_CONFIG
  }
}

/** Runs `close` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) process.exit(130);
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => { logger.error('shutdown timed out'); process.exit(1); }, 15_000);
    timer.unref();
    close().then(() => { logger.info('stopped'); process.exit(0); }, (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

/**
 * A rejection nobody awaited (e.g. a kafkajs retriable error from a background reconnect) or an
 * uncaught exception leaves the process in an unknown state: log it as one JSON line and exit
 * with EX_SOFTWARE, so the supervisor restarts a clean process (projectors resume from their
 * checkpoints, the relay from the outbox).
 */
export function exitOnStrayErrors(logger: Logger): void {
  const exit = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, `${kind}; exiting so the supervisor restarts a clean process`);
    logger.flush?.();
    process.exit(70);
  };
  process.on('unhandledRejection', exit('unhandled promise rejection'));
  process.on('uncaughtException', exit('uncaught exception'));
}
