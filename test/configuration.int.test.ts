// Configuration safety, checked on real processes (`node query-api/server.ts` with a bare
// environment): no development default outside NODE_ENV=development/test, no published default
// in production, and no secret value in any message.
import t from 'tap';
import { execFile } from 'node:child_process';
import { loadConfig } from '../core/adapters/config.ts';

/** Starts a query API with exactly this environment; a configuration error ends it before it connects anywhere. */
const start = (env: Record<string, string>) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['query-api/server.ts'],
      { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 180_000 },
      (err, _stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }),
    );
  });
// Settings that are fine in production: only the ones under test are varied.
const GOOD = {
  DATABASE_URL: 'postgres://app:Zq8-unguessable-db-password@db.internal:5432/ledgerline',
  KAFKA_BROKERS: 'kafka.internal:9092',
  S3_ENDPOINT: 'http://s3.internal:9000',
  S3_PUBLIC_URL: 'https://files.example.com',
  S3_ACCESS_KEY_ID: 'app-key',
  S3_SECRET_ACCESS_KEY: 'Zq8-unguessable-s3-secret',
  S3_BUCKET: 'ledgerline',
  JWT_SECRET: 'Zq8-unguessable-jwt-secret-0123456789abcdef',
  SMTP_URL: 'smtps://mail.example.com:465',
};

t.test('without NODE_ENV a process refuses the development defaults and says how to get them', async (t) => {
  const bare = await start({});
  t.equal(bare.status, 78, 'exit code EX_CONFIG (before: it started with the public development JWT secret)');
  t.match(bare.stderr, /JWT_SECRET is required: NODE_ENV is not set, and the development defaults apply only with NODE_ENV=development or test/);
  t.match(bare.stderr, /DATABASE_URL is required/);

  const infraDefaults = await start({
    ...GOOD,
    DATABASE_URL: 'postgres://ledgerline:ledgerline@127.0.0.1:55432/ledgerline',
    JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef',
  });
  t.equal(infraDefaults.status, 78);
  t.match(infraDefaults.stderr, /DATABASE_URL is a published default value/);
  t.match(infraDefaults.stderr, /JWT_SECRET is a published default value/);
});

t.test('production refuses every published default: database and S3 passwords, the JWT secret', async (t) => {
  // Every problem is reported at once, so one process checks several defaults (the machine is slow and shared).
  const cases: Record<string, string>[] = [
    {
      DATABASE_URL: 'postgres://ledgerline:ledgerline@postgres:5432/ledgerline',
      S3_SECRET_ACCESS_KEY: 'ledgerline-secret',
      JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef',
    },
    { DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/ledgerline', S3_ACCESS_KEY_ID: 'minioadmin', S3_SECRET_ACCESS_KEY: 'minioadmin' },
    { S3_SECRET_ACCESS_KEY: 'ledgerline-app-secret' },
  ];
  for (const override of cases) {
    const run = await start({ ...GOOD, NODE_ENV: 'production', ...override });
    t.equal(run.status, 78, `${Object.keys(override).join(', ')} set to known defaults stop the process`);
    for (const variable of Object.keys(override)) t.match(run.stderr, new RegExp(`${variable} is a published default value`), `${variable} is named`);
    for (const value of Object.values(override)) t.notOk(run.stderr.includes(value), 'without printing the value');
  }
});

t.test('a configuration error never prints a secret value, malformed or not', async (t) => {
  const run = await start({
    ...GOOD,
    NODE_ENV: 'production',
    DATABASE_URL: 'mysql://app:hunter2-db-password@db/ledgerline',
    JWT_SECRET: 'too-short-jwt-secret',
    S3_SECRET_ACCESS_KEY: 'x',
    VAULT_REFRESH_INTERVAL_MS: 'often',
  });
  t.equal(run.status, 78);
  for (const variable of ['DATABASE_URL', 'JWT_SECRET', 'VAULT_REFRESH_INTERVAL_MS']) t.match(run.stderr, variable, `${variable} is named`);
  t.match(run.stderr, /value hidden: 20 characters/, 'a secret is described by its length only');
  t.match(run.stderr, /got \\"often\\"/, 'a value that is not secret is shown, to help');
  for (const secret of ['hunter2', 'too-short-jwt-secret']) t.notOk(run.stderr.includes(secret), `${secret} is not printed`);
});

t.test('development and test keep their defaults; production with its own values passes', async (t) => {
  t.equal(loadConfig({ NODE_ENV: 'development' }).JWT_SECRET.length >= 32, true);
  t.equal(loadConfig({ NODE_ENV: 'test' }).BCRYPT_COST, 4);
  t.equal(loadConfig({ ...GOOD, NODE_ENV: 'production' }).NODE_ENV, 'production');
  t.equal(loadConfig({ ...GOOD }).NODE_ENV, 'production', 'unset NODE_ENV means production, once every setting is given');
});
