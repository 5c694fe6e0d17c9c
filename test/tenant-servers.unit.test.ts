// TENANT_SERVERS: the tenant servers by name, in either spelling; `main` is always there; a bad
// value stops the process naming the variable but never echoing a URL (it holds a password);
// with Vault on, the value comes from Vault like the other secrets.
import t from 'tap';
import { ConfigError, loadConfig, SECRET_SETTINGS } from '../core/adapters/config.ts';
import { createTenantServers, parseTenantServers } from '../core/adapters/tenant-servers.ts';

const MAIN = 'postgres://u:p@db1:5432/ledgerline';
const TWO = 'postgres://u:p@db2:5432/ledgerline';

t.test('both spellings; main defaults to the DATABASE_URL cluster', async (t) => {
  t.same(
    [...parseTenantServers(`main=${MAIN},pg2=${TWO}`, 'postgres://x/y')],
    [
      ['main', MAIN],
      ['pg2', TWO],
    ],
  );
  t.same(
    [...parseTenantServers(JSON.stringify({ pg2: TWO }), MAIN)],
    [
      ['pg2', TWO],
      ['main', MAIN],
    ],
  );
  t.same([...parseTenantServers('', MAIN)], [['main', MAIN]], 'unset: one server, main');
  const servers = createTenantServers({ TENANT_SERVERS: `pg2=${TWO}`, DATABASE_URL: MAIN });
  t.equal(servers.databaseUri('pg2', 'tenant_acme_3fa85f64'), 'postgres://u:p@db2:5432/tenant_acme_3fa85f64');
  t.equal(servers.serverUri('main'), MAIN);
  t.throws(() => servers.serverUri('nowhere'), /no tenant server named "nowhere"/);
});

t.test('a bad value is refused, naming the variable and never showing a URL', async (t) => {
  for (const bad of ['pg2', `=${TWO}`, 'pg2=mysql://u:secret@h/db', `Bad Name=${TWO}`, `pg2=${TWO},pg2=${TWO}`, '{"pg2": 3}', '{not json', '["x"]']) {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'test', TENANT_SERVERS: bad });
    } catch (err) {
      error = err;
    }
    t.ok(error instanceof ConfigError && error.variables.includes('TENANT_SERVERS'), `refused: ${bad.slice(0, 12)}…`);
    t.notMatch(String((error as Error).message), /secret|u:p@/, 'no credentials in the message');
  }
});

t.test('from Vault over the environment, and a published password is refused in production', async (t) => {
  t.ok(SECRET_SETTINGS.includes('TENANT_SERVERS'), 'read from the Vault KV secret with the other secrets');
  const config = loadConfig({ NODE_ENV: 'test', TENANT_SERVERS: 'pg2=postgres://decoy:decoy@nowhere:1/x' }, { TENANT_SERVERS: `pg2=${TWO}` });
  t.equal(config.TENANT_SERVERS, `pg2=${TWO}`);
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', TENANT_SERVERS: 'pg2=postgres://ledgerline:ledgerline@db2/ledgerline' }),
    /TENANT_SERVERS is a published default/,
  );
});
