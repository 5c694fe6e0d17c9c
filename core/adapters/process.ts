import { writeSync } from 'node:fs';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { fixedSecrets, vaultSecrets, type LiveSecrets } from './live-secrets.ts';
import { openVaultSession, vaultOptionsFrom, VaultUnreachableError, type VaultSession } from './secrets.ts';

const yes = (value: string | undefined) => /^(true|1|yes)$/i.test(value ?? '');

/**
 * Loads the configuration (secrets from Vault when USE_VAULT=true); a bad setting ends the process
 * with EX_CONFIG. Vault unreachable at start-up stops the process too (fail closed), unless
 * VAULT_FALLBACK_TO_ENV=true, which takes the secrets from the environment and says so.
 */
export async function bootstrap(
  service: string,
  env: Record<string, string | undefined> = process.env,
): Promise<{ config: Config; logger: Logger; secrets: LiveSecrets }> {
  const stop = (message: string): never => {
    // writeSync: the message must be out before process.exit, whatever stderr is (pipe, file, tty).
    writeSync(2, `${JSON.stringify({ level: 60, service, msg: message })}\n`);
    process.exit(78); // EX_CONFIG
  };
  let session: VaultSession | undefined;
  let fallbackReason: string | undefined;
  try {
    if (yes(env.USE_VAULT)) {
      try {
        session = await openVaultSession(vaultOptionsFrom(env));
      } catch (err) {
        if (!(err instanceof VaultUnreachableError) || !yes(env.VAULT_FALLBACK_TO_ENV)) throw err;
        fallbackReason = err.message;
      }
    }
    const config = loadConfig(env, session?.values() ?? {});
    const logger = createLogger(service, config);
    exitOnStrayErrors(logger);
    if (fallbackReason)
      logger.warn({ reason: fallbackReason }, 'VAULT_FALLBACK_TO_ENV=true: Vault is unreachable, running with the secrets of the environment');
    const secrets = session ? await vaultSecrets(config, session, logger) : fixedSecrets(config);
    logger.info({ env: config.NODE_ENV, vault: session ? { version: session.current().version } : false }, 'configuration loaded');
    return { config, logger, secrets };
  } catch (err) {
    session?.close();
    return stop(err instanceof ConfigError ? err.message : `cannot start ${service}: ${(err as Error).message}`);
  }
}

/** Runs `close` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) process.exit(130);
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, 15_000);
    timer.unref();
    close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
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
