import vault from 'node-vault';
import { SECRET_SETTINGS, type SettingName } from './config.ts';
import type { Logger } from './logger.ts';

export type SecretValues = Partial<Record<SettingName, string>>;

/** Where a process gets its secrets from Vault (or OpenBao, same API): read from the environment before the rest of the configuration. */
export type VaultOptions = {
  address: string;
  roleId: string;
  secretId: string;
  mount: string;
  path: string;
  refreshIntervalMs: number;
  timeoutMs: number;
};

/** Vault could not be reached (network, timeout, sealed or 5xx), as opposed to refusing us. */
export class VaultUnreachableError extends Error {
  constructor(address: string, cause: unknown) {
    super(`Vault at ${address} is unreachable: ${describe(cause)}`);
    this.name = 'VaultUnreachableError';
  }
}

export type KvVersion = { values: SecretValues; version: number; createdAt: number };
export type VaultStatus = { logins: number; renewals: number; version: number; lastRefreshAt: number | null; lastError: string | null };

/**
 * An AppRole session with Vault: logs in, reads the secret settings from KV v2, renews its token
 * before it expires (logging in again once it cannot be renewed), and re-reads the secret every
 * `refreshIntervalMs` so a rotation reaches the running process. Listeners hear each new version.
 */
export type VaultSession = {
  values(): SecretValues;
  current(): KvVersion;
  /** The KV v2 versions before the current one, newest first (bounded), to find a rotated-out key. */
  history(limit: number): Promise<KvVersion[]>;
  onRotation(listener: (next: KvVersion, previous: KvVersion) => void): void;
  start(logger: Logger): void;
  status(): VaultStatus;
  close(): void;
};

export function vaultOptionsFrom(env: Record<string, string | undefined>): VaultOptions {
  const missing = ['VAULT_ROLE_ID', 'VAULT_SECRET_ID'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`USE_VAULT=true needs ${missing.join(', ')}`);
  const int = (name: string, fallback: number) => (env[name] && /^\d+$/.test(env[name]) ? Number(env[name]) : fallback);
  return {
    address: env.VAULT_ADDR || 'http://127.0.0.1:58200',
    roleId: env.VAULT_ROLE_ID!,
    secretId: env.VAULT_SECRET_ID!,
    mount: env.VAULT_KV_MOUNT || 'secret',
    path: env.VAULT_KV_PATH || 'ledgerline',
    refreshIntervalMs: Math.max(100, int('VAULT_REFRESH_INTERVAL_MS', 30_000)),
    timeoutMs: Math.max(100, int('VAULT_TIMEOUT_MS', 5_000)),
  };
}

/** Logs in and reads the secret once; throws VaultUnreachableError when Vault does not answer. */
export async function openVaultSession(options: VaultOptions): Promise<VaultSession> {
  const client = vault({ apiVersion: 'v1', endpoint: options.address, token: '', requestOptions: { timeout: options.timeoutMs } });
  const status: VaultStatus = { logins: 0, renewals: 0, version: 0, lastRefreshAt: null, lastError: null };
  const listeners: ((next: KvVersion, previous: KvVersion) => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let logger: Logger | undefined;
  let closed = false;

  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (err) {
      if (isUnreachable(err)) throw new VaultUnreachableError(options.address, err);
      throw new Error(`Vault at ${options.address} refused ${what}: ${describe(err)}`);
    }
  };
  const later = (ms: number, run: () => Promise<void>) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void run();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  let tokenTtlSeconds = 0;
  async function login(): Promise<void> {
    const answer = (await call('the AppRole login', () => client.approleLogin({ role_id: options.roleId, secret_id: options.secretId }))) as VaultAuth;
    status.logins += 1;
    tokenTtlSeconds = answer.auth.lease_duration;
  }

  /** Renews at two thirds of the token's TTL; a token that cannot be renewed (max TTL, revoked) is replaced by a new login. */
  function scheduleRenewal(): void {
    if (tokenTtlSeconds <= 0) return; // a token without TTL never expires
    later(Math.max(200, (tokenTtlSeconds * 1000 * 2) / 3), async () => {
      const before = tokenTtlSeconds;
      try {
        const answer = (await call('the token renewal', () => client.tokenRenewSelf())) as VaultAuth;
        tokenTtlSeconds = answer.auth.lease_duration;
        status.renewals += 1;
        // Near the role's max TTL Vault grants less than asked: log in again rather than run out.
        if (!answer.auth.renewable || tokenTtlSeconds < before / 2) await login();
      } catch (err) {
        logger?.warn({ err: describe(err) }, 'vault token renewal failed; logging in again');
        await login().catch((loginErr: unknown) => {
          status.lastError = describe(loginErr);
        });
      }
      scheduleRenewal();
    });
  }

  const dataPath = `${options.mount}/data/${options.path}`;
  async function readVersion(version?: number): Promise<KvVersion> {
    const answer = (await call(`reading ${dataPath}`, () => client.read(version ? `${dataPath}?version=${version}` : dataPath))) as KvAnswer;
    const data = answer.data?.data ?? {};
    const values: SecretValues = {};
    for (const name of SECRET_SETTINGS) {
      const value = data[name];
      if (typeof value === 'string' && value !== '') values[name] = value;
    }
    return { values, version: answer.data?.metadata?.version ?? 0, createdAt: Date.parse(answer.data?.metadata?.created_time ?? '') || Date.now() };
  }

  async function refresh(): Promise<void> {
    try {
      const next = await readVersion();
      status.lastRefreshAt = Date.now();
      status.lastError = null;
      if (next.version !== current.version) {
        const previous = current;
        current = next;
        status.version = next.version;
        const changed = SECRET_SETTINGS.filter((name) => next.values[name] !== previous.values[name]);
        logger?.info({ version: next.version, changed }, 'vault secret rotated');
        for (const listener of listeners) listener(next, previous);
      }
    } catch (err) {
      status.lastError = describe(err);
      logger?.warn({ err: status.lastError }, 'vault refresh failed; keeping the secrets read before');
      if (/permission denied|403/i.test(status.lastError)) await login().catch(() => undefined);
    }
    later(options.refreshIntervalMs, refresh);
  }

  await login();
  let current = await readVersion();
  status.version = current.version;

  return {
    values: () => current.values,
    current: () => current,
    async history(limit) {
      const older: KvVersion[] = [];
      for (let version = current.version - 1; version >= 1 && older.length < limit; version -= 1) {
        // Deleted or destroyed versions answer 404: skip them, they hold nothing to trust.
        const read = await readVersion(version).catch(() => undefined);
        if (read) older.push(read);
      }
      return older;
    },
    onRotation: (listener) => {
      listeners.push(listener);
    },
    start(processLogger) {
      logger = processLogger;
      scheduleRenewal();
      later(options.refreshIntervalMs, refresh);
    },
    status: () => ({ ...status }),
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

type VaultAuth = { auth: { client_token: string; lease_duration: number; renewable: boolean } };
type KvAnswer = { data?: { data?: Record<string, unknown>; metadata?: { version?: number; created_time?: string } } };

function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; response?: { statusCode?: number }; message?: string };
  if (e.response?.statusCode !== undefined) return e.response.statusCode >= 500; // sealed, standby, overloaded
  return true; // no HTTP answer at all: refused, reset, timed out, DNS
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; response?: { statusCode?: number } };
  const status = e.response?.statusCode ? `HTTP ${e.response.statusCode}: ` : '';
  // Vault's multi-line error lists ("1 error occurred:\n\t* permission denied") on one line, for logs.
  return `${status}${e.code && !String(e.message).includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(err)}`.replace(/\s+/g, ' ').trim();
}
