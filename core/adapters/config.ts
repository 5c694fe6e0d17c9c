import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parseTenantServers } from './tenant-servers.ts';

// Development defaults point at the services scripts/infra.sh starts. They are public (they are in
// this file), so they are used only when NODE_ENV is explicitly `development` or `test`: a process
// started without NODE_ENV is treated as production and must be given real values.
const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';
const Settings = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'production' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  HOST: Type.String({ default: '127.0.0.1' }),
  COMMAND_API_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4999 }),
  QUERY_API_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4998 }),
  PROJECTOR_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://ledgerline:ledgerline@127.0.0.1:55432/ledgerline' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  TENANT_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 50, default: 3 }),
  TENANT_POOLS_MAX: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
  // PostgreSQL servers tenant databases are placed on: `name=url,name=url` or a JSON object.
  // Empty: one server, `main`, the DATABASE_URL cluster (core/adapters/tenant-servers.ts).
  TENANT_SERVERS: Type.String({ default: '' }),
  KAFKA_BROKERS: Type.String({ minLength: 1, default: '127.0.0.1:59092' }),
  KAFKA_CLIENT_ID: Type.String({ default: 'ledgerline' }),
  TOPIC_PREFIX: Type.String({ pattern: '^[a-zA-Z0-9._-]*$', default: '' }),
  TOPIC_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1000, default: 6 }),
  S3_ENDPOINT: Type.String({ default: 'http://127.0.0.1:59000' }),
  S3_PUBLIC_URL: Type.String({ default: 'http://127.0.0.1:59000' }),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ACCESS_KEY_ID: Type.String({ minLength: 1, default: 'ledgerline' }),
  S3_SECRET_ACCESS_KEY: Type.String({ minLength: 1, default: 'ledgerline-secret' }),
  S3_BUCKET: Type.String({ minLength: 3, default: 'ledgerline' }),
  S3_KEY_PREFIX: Type.String({ default: '' }),
  JWT_SECRET: Type.String({ minLength: 32, default: DEV_JWT_SECRET }),
  // Key of the pseudonyms that stand for unknown emails in failed-login events; empty: derived from JWT_SECRET.
  AUDIT_PSEUDONYM_KEY: Type.String({ default: '' }),
  JWT_ISSUER: Type.String({ default: 'ledgerline' }),
  JWT_AUDIENCE: Type.String({ default: 'ledgerline-api' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 300, default: 604800 }),
  BCRYPT_COST: Type.Integer({ minimum: 4, maximum: 15, default: 12 }),
  MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  ORPHAN_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 600_000 }),
  ORPHAN_MIN_AGE_MS: Type.Integer({ minimum: 0, default: 900_000 }),
  // Pages and documents of the tenant read models the query API keeps in memory (0: none), dropped
  // by the tenant projector's notification when it applies that tenant's events.
  READ_CACHE_ENTRIES: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 5000 }),
  READ_CACHE_MAX_AGE_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 5000 }),
  READ_YOUR_WRITES_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 5000 }),
  RELAY_ENABLED: Type.Boolean({ default: true }),
  // Webhooks (projectors/webhooks). Address classes a webhook URL may resolve to besides public
  // ones: a comma list of loopback, private, link-local, multicast, unspecified, reserved (or all).
  // Empty in production; scripts/start.sh and the tests allow loopback for a local receiver.
  WEBHOOK_ALLOW_PRIVATE: Type.String({ pattern: '^[a-z, -]*$', default: '' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 1, maximum: 120000, default: 10000 }),
  // Retries: exponential from the first delay, doubling up to the longest, with jitter, until the
  // window since the first attempt is spent; then the delivery is marked failed.
  WEBHOOK_RETRY_FIRST_DELAY_MS: Type.Integer({ minimum: 1, default: 5000 }),
  WEBHOOK_RETRY_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 4 * 3600 * 1000 }),
  WEBHOOK_RETRY_WINDOW_MS: Type.Integer({ minimum: 0, default: 24 * 3600 * 1000 }),
  // A subscription whose last N deliveries were all given up is disabled (WebhookDisabled).
  WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES: Type.Integer({ minimum: 1, default: 5 }),
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
  // At most this many of those slots for one tenant, so one tenant's dead receivers cannot take them all.
  WEBHOOK_TENANT_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 4 }),
  WEBHOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 250 }),
  WEBHOOK_SECRET_OVERLAP_SECONDS: Type.Integer({ minimum: 0, default: 86400 }),
  // Mailpit (scripts/infra.sh) in development and tests; a real relay in production.
  SMTP_URL: Type.String({ pattern: '^smtps?://', default: 'smtp://127.0.0.1:51025' }),
  SMTP_FROM: Type.String({ minLength: 3, default: 'Ledgerline <notifications@ledgerline.local>' }),
  MAILER_ENABLED: Type.Boolean({ default: true }),
  MAILER_POLL_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 500 }),
  // Longer than one send can take (the SMTP timeouts in projectors/notifications/mailer.ts): a
  // lease that runs out while its mailer is still sending lets another instance send it too.
  MAILER_LEASE_MS: Type.Integer({ minimum: 500, maximum: 3600000, default: 90000 }),
  // Where the tenant schema's numbered files are (provisioning and migrate:tenants); empty: tenant-schema/migrations.
  TENANT_MIGRATIONS_DIR: Type.String({ default: '' }),
  USE_VAULT: Type.Boolean({ default: false }),
  VAULT_ADDR: Type.String({ default: 'http://127.0.0.1:58200' }),
  VAULT_ROLE_ID: Type.String({ default: '' }),
  VAULT_SECRET_ID: Type.String({ default: '' }),
  VAULT_KV_MOUNT: Type.String({ default: 'secret' }),
  VAULT_KV_PATH: Type.String({ default: 'ledgerline' }),
  /** Vault unreachable at start-up: take the secrets from the environment (with a warning) instead of stopping. */
  VAULT_FALLBACK_TO_ENV: Type.Boolean({ default: false }),
  /** How often a process checks Vault for a rotated secret. */
  VAULT_REFRESH_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  VAULT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000 }),
  // Abuse limits and hardening (issue 11): see README "Limits".
  AUTH_RATE_LIMIT_PER_IP: Type.Integer({ minimum: 1, default: 30 }),
  AUTH_RATE_LIMIT_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 10 }),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  BCRYPT_CONCURRENCY: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
  UPLOADS_PER_USER: Type.Integer({ minimum: 1, default: 3 }),
  UPLOADS_PER_PROCESS: Type.Integer({ minimum: 1, default: 32 }),
  TENANTS_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 120_000 }),
  UPLOAD_STALL_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  SESSION_MAX_LIFETIME_SECONDS: Type.Integer({ minimum: 300, default: 30 * 24 * 3600 }),
  PURGE_INTERVAL_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  PUBLISHED_OUTBOX_RETENTION_SECONDS: Type.Integer({ minimum: 0, default: 7 * 24 * 3600 }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  CORS_ORIGINS: Type.String({ default: '' }),
  OPERATOR_TOKEN: Type.String({ default: '' }),
});

export type Config = Static<typeof Settings>;
export type SettingName = keyof Config;
export const SETTING_NAMES = Object.keys(Settings.properties) as SettingName[];

/** Settings a production deployment must set explicitly: their development defaults are unsafe there. */
const REQUIRED_IN_PRODUCTION: SettingName[] = [
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'S3_ENDPOINT',
  'S3_PUBLIC_URL',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_BUCKET',
  'JWT_SECRET',
  'SMTP_URL',
];
/** Settings Vault may supply (KV v2) when USE_VAULT=true. */
export const SECRET_SETTINGS: SettingName[] = [
  'DATABASE_URL',
  'TENANT_SERVERS',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'JWT_SECRET',
  'AUDIT_PSEUDONYM_KEY',
];
/** Settings whose value is never printed, not even when it is malformed. */
const HIDDEN_SETTINGS = new Set<SettingName>([...SECRET_SETTINGS, 'VAULT_ROLE_ID', 'VAULT_SECRET_ID']);

/**
 * Values published in this repository or by the vendors (dev defaults, docker-compose's old
 * defaults, MinIO's and PostgreSQL's stock passwords): anyone can read them, so production refuses them.
 */
const KNOWN_DEFAULT_PASSWORDS = new Set(['ledgerline', 'postgres', 'password', 'changeme', 'change-me']);
const KNOWN_DEFAULT_SECRETS: Partial<Record<SettingName, Set<string>>> = {
  JWT_SECRET: new Set([DEV_JWT_SECRET]),
  S3_SECRET_ACCESS_KEY: new Set(['ledgerline-secret', 'ledgerline-app-secret', 'minioadmin', 'minio123', ...KNOWN_DEFAULT_PASSWORDS]),
  S3_ACCESS_KEY_ID: new Set(['minioadmin']),
};
function isKnownDefault(name: SettingName, value: string): boolean {
  if (name === 'TENANT_SERVERS') {
    try {
      return [...parseTenantServers(value, 'postgres://-').values()].some((url) => url !== 'postgres://-' && isKnownDefault('DATABASE_URL', url));
    } catch {
      return false; // malformed: reported below
    }
  }
  if (name === 'DATABASE_URL') {
    try {
      return KNOWN_DEFAULT_PASSWORDS.has(decodeURIComponent(new URL(value).password));
    } catch {
      return false; // malformed: reported by the schema check
    }
  }
  return KNOWN_DEFAULT_SECRETS[name]?.has(value) ?? false;
}

export class ConfigError extends Error {
  readonly variables: string[];
  constructor(problems: { variable: string; problem: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
    this.name = 'ConfigError';
    this.variables = problems.map((p) => p.variable);
  }
}

/** What a message may say about a bad value: secrets are described, never shown. */
function shown(variable: string, value: unknown): string {
  if (HIDDEN_SETTINGS.has(variable as SettingName)) return `(value hidden: ${typeof value === 'string' ? value.length : 0} characters)`;
  return `(got ${JSON.stringify(value ?? null)})`;
}

/** Reads, converts and validates the environment; throws a ConfigError naming every bad variable (never a secret's value). */
export function loadConfig(env: Record<string, string | undefined> = process.env, secrets: Partial<Record<SettingName, string>> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_NAMES) {
    const value = secrets[key] ?? env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const problems: { variable: string; problem: string }[] = [];
  const explicitlyDevelopment = raw.NODE_ENV === 'development' || raw.NODE_ENV === 'test';
  if (!explicitlyDevelopment && (raw.NODE_ENV === undefined || raw.NODE_ENV === 'production')) {
    const why =
      raw.NODE_ENV === undefined
        ? 'is required: NODE_ENV is not set, and the development defaults apply only with NODE_ENV=development or test'
        : 'is required when NODE_ENV=production';
    for (const key of REQUIRED_IN_PRODUCTION) {
      if (raw[key] === undefined) problems.push({ variable: key, problem: why });
    }
    for (const key of SETTING_NAMES) {
      const value = raw[key];
      if (typeof value === 'string' && isKnownDefault(key, value)) {
        problems.push({ variable: key, problem: 'is a published default value (from this repository or the vendor): set a secret of your own in production' });
      }
    }
  }
  const bcryptCostGiven = raw.BCRYPT_COST !== undefined; // Convert/Default fill `raw` in place
  const converted = Value.Default(Settings, Value.Convert(Settings, raw));
  for (const error of Value.Errors(Settings, converted)) {
    const variable = error.instancePath.replace(/^\//, '') || 'configuration';
    problems.push({ variable, problem: `${error.message} ${shown(variable, raw[variable])}` });
  }
  if (typeof raw.TENANT_SERVERS === 'string') {
    try {
      parseTenantServers(raw.TENANT_SERVERS, 'postgres://-');
    } catch (err) {
      problems.push({ variable: 'TENANT_SERVERS', problem: (err as Error).message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = converted as Config;
  if (!bcryptCostGiven && config.NODE_ENV === 'test') return { ...config, BCRYPT_COST: 4 };
  return config;
}
