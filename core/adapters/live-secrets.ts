import type { Config } from './config.ts';
import { createJwtKeyRing, type JwtKeyRing } from './jwt-keys.ts';
import type { Logger } from './logger.ts';
import type { VaultSession } from './secrets.ts';

export type S3Credentials = { accessKeyId: string; secretAccessKey: string };

/**
 * The secrets a running process uses, as they are now: fixed from the configuration, or followed
 * from Vault (a rotated JWT key or S3 key is used from the next request on, without a restart).
 */
export type LiveSecrets = {
  jwtKeys: JwtKeyRing;
  s3Credentials(): S3Credentials;
  vault?: VaultSession;
  close(): void;
};

export function fixedSecrets(config: Config): LiveSecrets {
  const s3 = { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY };
  return { jwtKeys: createJwtKeyRing(config.JWT_SECRET), s3Credentials: () => s3, close: () => undefined };
}

/** Follows the Vault session; `config` holds the values read at start-up (and the environment's, where Vault has none). */
export async function vaultSecrets(config: Config, session: VaultSession, logger: Logger): Promise<LiveSecrets> {
  const tokenLifetimeMs = config.ACCESS_TOKEN_TTL_SECONDS * 1000;
  const jwtKeys = await startingKeyRing(config.JWT_SECRET, session, tokenLifetimeMs);
  session.onRotation((next, previous) => {
    const nextKey = next.values.JWT_SECRET;
    if (nextKey && nextKey !== previous.values.JWT_SECRET) jwtKeys.rotate(nextKey, next.createdAt + tokenLifetimeMs);
    if (next.values.DATABASE_URL !== previous.values.DATABASE_URL) {
      logger.warn('DATABASE_URL changed in Vault: open database pools keep their connections; restart the process to use the new one');
    }
  });
  session.start(logger);
  return {
    jwtKeys,
    s3Credentials: () => ({
      accessKeyId: session.values().S3_ACCESS_KEY_ID ?? config.S3_ACCESS_KEY_ID,
      secretAccessKey: session.values().S3_SECRET_ACCESS_KEY ?? config.S3_SECRET_ACCESS_KEY,
    }),
    vault: session,
    close: () => session.close(),
  };
}

/**
 * A key rotated out shortly before this process started still verifies the tokens it signed until
 * they expire: find it in the secret's version history (the same answer on every instance).
 */
async function startingKeyRing(currentKey: string, session: VaultSession, tokenLifetimeMs: number): Promise<JwtKeyRing> {
  let introducedAt = session.current().createdAt;
  for (const older of await session.history(10)) {
    const key = older.values.JWT_SECRET;
    if (!key) break;
    if (key !== currentKey) {
      const ring = createJwtKeyRing(key);
      ring.rotate(currentKey, introducedAt + tokenLifetimeMs);
      return ring;
    }
    introducedAt = older.createdAt;
  }
  return createJwtKeyRing(currentKey);
}
