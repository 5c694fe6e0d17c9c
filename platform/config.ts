import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

// Development defaults point at the services scripts/infra.sh starts; in production every
// setting marked `required` must come from the environment (or Vault) instead.
const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

const Settings = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  HOST: Type.String({ default: '127.0.0.1' }),
  COMMAND_API_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4999 }),
  QUERY_API_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4998 }),
  PROJECTOR_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://ledgerline:ledgerline@127.0.0.1:55432/ledgerline' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  TENANT_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 50, default: 3 }),
  TENANT_POOLS_MAX: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
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
  JWT_ISSUER: Type.String({ default: 'ledgerline' }),
  JWT_AUDIENCE: Type.String({ default: 'ledgerline-api' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 900 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 300, default: 604800 }),
  BCRYPT_COST: Type.Integer({ minimum: 4, maximum: 15, default: 12 }),
  MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1, default: 100 * 1024 * 1024 }),
  ORPHAN_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 600_000 }),
  ORPHAN_MIN_AGE_MS: Type.Integer({ minimum: 0, default: 900_000 }),
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
  USE_VAULT: Type.Boolean({ default: false }),
  VAULT_ADDR: Type.String({ default: 'http://127.0.0.1:58200' }),
  VAULT_ROLE_ID: Type.String({ default: '' }),
  VAULT_SECRET_ID: Type.String({ default: '' }),
  VAULT_KV_MOUNT: Type.String({ default: 'secret' }),
  VAULT_KV_PATH: Type.String({ default: 'ledgerline' }),
});

export type Config = Static<typeof Settings>;
export type SettingName = keyof Config;

/** Settings a production deployment must set explicitly: their development defaults are unsafe there. */
const REQUIRED_IN_PRODUCTION: SettingName[] = [
  'DATABASE_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT', 'S3_PUBLIC_URL', 'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY', 'S3_BUCKET', 'JWT_SECRET',
];
/** Settings Vault may supply (KV v2) when USE_VAULT=true. */
export const SECRET_SETTINGS: SettingName[] = ['DATABASE_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'JWT_SECRET'];

export class ConfigError extends Error {
  readonly variables: string[];
  constructor(problems: { variable: string; problem: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
    this.name = 'ConfigError';
    this.variables = problems.map((p) => p.variable);
  }
}

/** Reads, converts and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, secrets: Partial<Record<SettingName, string>> = {}): Config {
  const keys = Object.keys(Settings.properties) as SettingName[];
  const raw: Record<string, unknown> = {};
  for (const key of keys) {
    const value = secrets[key] ?? env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const problems: { variable: string; problem: string }[] = [];
  const production = raw.NODE_ENV === 'production';
  if (production) {
    for (const key of REQUIRED_IN_PRODUCTION) {
      if (raw[key] === undefined) problems.push({ variable: key, problem: 'is required when NODE_ENV=production' });
    }
    if (raw.JWT_SECRET === DEV_JWT_SECRET) problems.push({ variable: 'JWT_SECRET', problem: 'must not be the development default in production' });
  }
  const converted = Value.Default(Settings, Value.Convert(Settings, raw));
  for (const error of Value.Errors(Settings, converted)) {
    const variable = error.instancePath.replace(/^\//, '') || 'configuration';
    problems.push({ variable, problem: `${error.message} (got ${JSON.stringify(raw[variable] ?? null)})` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = converted as Config;
  if (!production && raw.BCRYPT_COST === undefined && config.NODE_ENV === 'test') return { ...config, BCRYPT_COST: 4 };
  return config;
}
