// Seeds an admin user and a test tenant, idempotently (like `init_db --create-admin --create-test-tenant`):
//
//   node scripts/seed.ts --create-admin --create-test-tenant [--admin-email x] [--admin-password y]
//                        [--admin-name n] [--tenant-slug test] [--tenant-name Test]
//
// Everything goes through the command API (built in-process, requests by inject), so the same rules
// apply as for any client: email and password policy, slug rules, events and the outbox. The events
// reach Kafka through the relay of a running command API. A second run finds everything in place,
// changes nothing and says so. Passwords are never printed. In production --admin-password (or
// SEED_ADMIN_PASSWORD) is required; elsewhere a development default is used.
import { parseArgs } from 'node:util';
import { bootstrap } from '../core/adapters/process.ts';
import { migrate, MAIN_MIGRATIONS } from '../core/adapters/migrate.ts';
import { createServices, type Services } from '../core/adapters/services.ts';
import { readStream } from '../core/eventing/event-store.ts';
import { loadAggregate } from '../core/eventing/command-handler.ts';
import type { App } from '../core/adapters/http.ts';
import { buildCommandApi } from '../command-api/app.ts';
import { emailClaimStreamId } from '../domain/user/index.ts';
import { slugClaimStreamId, tenantDecider, tenantStreamId } from '../domain/tenant/index.ts';

const DEV_ADMIN_EMAIL = 'admin@ledgerline.local';
const DEV_ADMIN_PASSWORD = 'ledgerline-dev-admin';

const { values: args } = parseArgs({
  options: {
    'create-admin': { type: 'boolean', default: false },
    'create-test-tenant': { type: 'boolean', default: false },
    'admin-email': { type: 'string' },
    'admin-password': { type: 'string' },
    'admin-name': { type: 'string', default: 'Administrator' },
    'tenant-slug': { type: 'string', default: 'test' },
    'tenant-name': { type: 'string', default: 'Test' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const say = (line: string) => process.stdout.write(`seed: ${line}\n`);
const fail = (line: string): never => {
  process.stderr.write(`seed: ${line}\n`);
  process.exit(1);
};

if (args.help || (!args['create-admin'] && !args['create-test-tenant'])) {
  process.stdout.write('usage: node scripts/seed.ts --create-admin --create-test-tenant [--admin-email x --admin-password y]\n');
  process.exit(args.help ? 0 : 64);
}

const { config, logger } = await bootstrap('seed');
const email = args['admin-email'] ?? process.env.SEED_ADMIN_EMAIL ?? DEV_ADMIN_EMAIL;
const givenPassword = args['admin-password'] ?? process.env.SEED_ADMIN_PASSWORD;
if (config.NODE_ENV === 'production' && !givenPassword) fail('in production the admin password must be given (--admin-password or SEED_ADMIN_PASSWORD)');
const password = givenPassword ?? DEV_ADMIN_PASSWORD;
const slug = args['tenant-slug'];

// The script reports in plain lines; the services underneath only speak up when something is wrong.
const quiet = logger.child({}, { level: 'warn' });
let services: Services | undefined;
let app: App | undefined;
let changed = 0;

try {
  await migrate(config.DATABASE_URL, MAIN_MIGRATIONS, quiet);
  services = await createServices(config, quiet);
  app = await buildCommandApi(services);
  await app.ready();
  const api = app;
  const call = async (method: 'POST' | 'GET', url: string, body?: object, token?: string) => {
    const response = await api.inject({ method, url, ...(body ? { payload: body } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
  };
  const pool = services.pool;
  const emailKey = services.store.emailKey;
  const registeredUserId = async () => {
    const claim = (await readStream(pool, emailClaimStreamId(emailKey(email))))[0];
    return claim ? (claim.data as { userId: string }).userId : undefined;
  };

  if (args['create-admin']) {
    const existing = await registeredUserId();
    if (existing) {
      say(`admin ${email}: already registered (user ${existing}), unchanged`);
    } else {
      const answer = await call('POST', '/api/auth/register', { email, password, displayName: args['admin-name'] });
      if (answer.status === 201) {
        changed++;
        say(`admin ${email}: registered (user ${answer.body.id})${givenPassword ? '' : ', with the development default password (scripts/seed.ts)'}`);
      } else if (answer.body?.error?.code === 'EMAIL_TAKEN') {
        say(`admin ${email}: registered meanwhile by someone else, unchanged`);
      } else {
        fail(`cannot register the admin ${email}: ${answer.status} ${answer.body?.error?.code ?? ''} ${answer.body?.error?.message ?? ''}`);
      }
    }
  }

  if (args['create-test-tenant']) {
    const claim = (await readStream(pool, slugClaimStreamId(slug)))[0];
    if (claim) {
      const tenantId = (claim.data as { tenantId: string }).tenantId;
      const { state } = await loadAggregate(pool, tenantStreamId(tenantId), tenantDecider);
      say(`tenant ${slug}: already exists (tenant ${tenantId}, ${state.status}), unchanged`);
    } else {
      if (!(await registeredUserId())) fail(`the admin ${email} is not registered: run with --create-admin to create the test tenant`);
      const login = await call('POST', '/api/auth/login', { email, password });
      if (login.status !== 200)
        fail(`cannot log in as ${email} to create the test tenant (${login.body?.error?.code ?? login.status}): is --admin-password right?`);
      const token = login.body.access_token as string;
      try {
        const created = await call('POST', '/api/tenants', { name: args['tenant-name'], slug }, token);
        if (created.status === 202) {
          changed++;
          say(`tenant ${slug}: created (tenant ${created.body.id}), ${email} is its admin; the provisioner creates its database`);
        } else if (created.body?.error?.code === 'SLUG_TAKEN') {
          say(`tenant ${slug}: created meanwhile by someone else, unchanged`);
        } else {
          fail(`cannot create the tenant ${slug}: ${created.status} ${created.body?.error?.code ?? ''} ${created.body?.error?.message ?? ''}`);
        }
      } finally {
        await call('POST', '/api/auth/logout', undefined, token); // the seed's session ends with it
      }
    }
  }
  say(changed === 0 ? 'nothing to do: everything was already in place' : `done: ${changed} change(s)`);
} catch (err) {
  logger.error({ err }, 'seed failed');
  process.exitCode = 1;
} finally {
  await app?.close();
  await services?.close();
}
process.exit(process.exitCode ?? 0);
