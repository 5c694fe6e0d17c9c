// docker-compose.yml describes the production deployment; no Docker engine runs here, so this
// checks what can be checked without one: the file parses, every app service runs an entry point
// that exists, its settings are ones core/adapters/config.ts knows and accepts in production, and the
// dependencies point at defined services. Where Debian's docker-compose is installed, its own
// schema validation (`docker-compose config -q`) runs too.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, SECRET_SETTINGS, SETTING_NAMES } from '../core/adapters/config.ts';

type Service = {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: unknown;
};
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const APP = [
  'migrate',
  'command-api',
  'query-api',
  'projector-main',
  'projector-provisioner',
  'projector-tenant',
  'projector-webhooks',
  'projector-notifications',
];
const DEPLOY_ONLY = new Set(['VAULT_ROLE_ID_FILE', 'VAULT_SECRET_ID_FILE', 'PROJECTOR_PORT']);
const knownSettings = new Set<string>(SETTING_NAMES);

t.test('every part of the system is a service', async (t) => {
  for (const name of ['postgres', 'kafka', 'minio', 'minio-init', 'vault', 'vault-init', 'mailpit', ...APP]) t.ok(services[name], `${name} is defined`);
});

t.test('app services run entry points that exist, with settings the config module knows', async (t) => {
  for (const name of APP) {
    const service = services[name]!;
    const entry = service.command?.find((part) => part.endsWith('.ts'));
    t.ok(entry && existsSync(entry), `${name} runs ${entry}`);
    for (const key of Object.keys(service.environment ?? {})) {
      t.ok(knownSettings.has(key) || DEPLOY_ONLY.has(key), `${name}: ${key} is a setting of core/adapters/config.ts`);
    }
    if (name !== 'migrate') t.ok(service.healthcheck, `${name} has a health check`);
  }
});

t.test('the production environment passes configuration once Vault supplies the secrets', async (t) => {
  const env = Object.fromEntries(
    Object.entries(services['command-api']!.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
  );
  const secrets = Object.fromEntries(
    SECRET_SETTINGS.map((name) => [
      name,
      name === 'DATABASE_URL'
        ? 'postgres://u:p@postgres:5432/ledgerline'
        : name === 'TENANT_SERVERS'
          ? 'main=postgres://u:p@postgres:5432/ledgerline'
          : `${name.toLowerCase()}-from-vault-0123456789abcdef0123456789`,
    ]),
  );
  t.equal(loadConfig(env, secrets).NODE_ENV, 'production');
  t.throws(() => loadConfig(env), /is required when NODE_ENV=production/, 'without Vault the secrets are missing, and the process says which');
});

t.test('Kafka has a listener audit consumers on the host can reach, on loopback only', async (t) => {
  const kafka = services.kafka!;
  const env = kafka.environment ?? {};
  t.match(env.KAFKA_LISTENERS, /EXTERNAL:\/\/:9094/);
  t.match(env.KAFKA_ADVERTISED_LISTENERS, /PLAINTEXT:\/\/kafka:9092/, 'the services keep the compose-network address');
  t.match(env.KAFKA_ADVERTISED_LISTENERS, /EXTERNAL:\/\/127\.0\.0\.1:\$\{KAFKA_EXTERNAL_PORT:-9094\}/, 'the host gets an address it can reach');
  t.match(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, /EXTERNAL:PLAINTEXT/);
  t.same(kafka.ports, ['127.0.0.1:${KAFKA_EXTERNAL_PORT:-9094}:9094'], 'published on 127.0.0.1, the advertised port');
});

t.test('dependencies name defined services', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dep of deps) t.ok(services[dep], `${name} depends on ${dep}, which is defined`);
  }
});

t.test('ports are published on loopback only, unless the operator opts in for the public ones', async (t) => {
  const published = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((port) => [name, String(port)] as const));
  t.ok(published.length >= 4, 'the APIs, S3, its console and Vault are published');
  for (const [name, port] of published) {
    const [address, ...rest] = port.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').split(':');
    t.equal(rest.length, 2, `${name} ${port} names the host address (without one Docker binds every interface)`);
    t.equal(address, '127.0.0.1', `${name} ${port} binds 127.0.0.1 by default`);
    if (!/^\$\{PUBLIC_BIND_ADDRESS:-127\.0\.0\.1\}:/.test(port)) t.match(port, /^127\.0\.0\.1:/, `${name} ${port} is for operators: always loopback`);
  }
});

t.test('no credential has a default in the file: each comes from .env, and .env.example lists them', async (t) => {
  const text = readFileSync('docker-compose.yml', 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  const CREDENTIAL = /PASSWORD|SECRET|TOKEN|ROOT_USER|ACCESS_KEY/;
  for (const [, name, value] of text.matchAll(/\$\{([A-Z0-9_]+):?-([^}]*)\}/g)) {
    if (CREDENTIAL.test(name!)) t.equal(value, '', `\${${name}} has no default value`);
  }
  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (CREDENTIAL.test(key) && !/_FILE$/.test(key)) t.match(String(value), /\$\{/, `${name}: ${key} is taken from .env, not written here`);
    }
  }
  const required = new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((match) => match[1]!));
  t.ok(required.size >= 5, 'the credentials are required variables');
  const example = readFileSync('.env.example', 'utf8');
  for (const name of required) t.match(example, new RegExp(`^${name}=`, 'm'), `.env.example lists ${name}`);
  t.ok(execFileSync('git', ['check-ignore', '.env'], { encoding: 'utf8' }).trim() === '.env', '.env is never committed');
});

const dockerCompose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((path) => existsSync(path));
t.test(
  'docker-compose accepts the file',
  { skip: dockerCompose ? false : 'docker-compose is not installed here (apt-get install docker-compose)' },
  async (t) => {
    // An empty env file: a developer's own .env must not decide the outcome.
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const emptyEnvFile = join(dir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
    const config = (env: Record<string, string>) =>
      execFileSync(dockerCompose!, ['-f', 'docker-compose.yml', '--env-file', emptyEnvFile, 'config', '-q'], {
        stdio: 'pipe',
        env: { PATH: process.env.PATH ?? '', ...env },
      });
    // .env.example with its blanks filled, as an operator would.
    const filled = Object.fromEntries(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z0-9_]+=/.test(line))
        .map((line) => line.split('=') as [string, string])
        .map(([name, value]) => [name, value || (name === 'PUBLIC_BIND_ADDRESS' ? '127.0.0.1' : `filled-${name.toLowerCase()}`)]),
    );
    t.doesNotThrow(() => config(filled), 'valid once .env is filled in');
    const { POSTGRES_PASSWORD: _, ...withoutPassword } = filled;
    t.throws(() => config(withoutPassword), /set POSTGRES_PASSWORD in \.env/, 'refused, naming the credential, while one is missing');
  },
);
