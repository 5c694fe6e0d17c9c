// docker-compose.yml describes the production deployment; no Docker engine runs here, so this
// checks what can be checked without one: the file parses, every app service runs an entry point
// that exists, its settings are ones platform/config.ts knows and accepts in production, and the
// dependencies point at defined services. Where Debian's docker-compose is installed, its own
// schema validation (`docker-compose config -q`) runs too.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig, SECRET_SETTINGS, SETTING_NAMES } from '../platform/config.ts';

type Service = { command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> | string[]; healthcheck?: unknown };
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const APP = ['migrate', 'command-api', 'query-api', 'projector-main', 'projector-provisioner', 'projector-tenant', 'projector-webhooks'];
const DEPLOY_ONLY = new Set(['VAULT_ROLE_ID_FILE', 'VAULT_SECRET_ID_FILE', 'PROJECTOR_PORT']);
const knownSettings = new Set<string>(SETTING_NAMES);

t.test('every part of the system is a service', async (t) => {
  for (const name of ['postgres', 'kafka', 'minio', 'minio-init', 'vault', 'vault-init', ...APP]) t.ok(services[name], `${name} is defined`);
});

t.test('app services run entry points that exist, with settings the config module knows', async (t) => {
  for (const name of APP) {
    const service = services[name]!;
    const entry = service.command?.find((part) => part.endsWith('.ts'));
    t.ok(entry && existsSync(entry), `${name} runs ${entry}`);
    for (const key of Object.keys(service.environment ?? {})) {
      t.ok(knownSettings.has(key) || DEPLOY_ONLY.has(key), `${name}: ${key} is a setting of platform/config.ts`);
    }
    if (name !== 'migrate') t.ok(service.healthcheck, `${name} has a health check`);
  }
});

t.test('the production environment passes configuration once Vault supplies the secrets', async (t) => {
  const env = Object.fromEntries(Object.entries(services['command-api']!.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
  const secrets = Object.fromEntries(SECRET_SETTINGS.map((name) => [name, name === 'DATABASE_URL' ? 'postgres://u:p@postgres:5432/ledgerline' : `${name.toLowerCase()}-from-vault-0123456789abcdef0123456789`]));
  t.equal(loadConfig(env, secrets).NODE_ENV, 'production');
  t.throws(() => loadConfig(env), /is required when NODE_ENV=production/, 'without Vault the secrets are missing, and the process says which');
});

t.test('dependencies name defined services', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dep of deps) t.ok(services[dep], `${name} depends on ${dep}, which is defined`);
  }
});

const dockerCompose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((path) => existsSync(path));
t.test('docker-compose accepts the file', { skip: dockerCompose ? false : 'docker-compose is not installed here (apt-get install docker-compose)' }, async (t) => {
  t.doesNotThrow(() => execFileSync(dockerCompose!, ['-f', 'docker-compose.yml', 'config', '-q'], { stdio: 'pipe', env: { PATH: process.env.PATH ?? '' } }));
});
