// Auth end to end against the real services: registration rules, login (same answer and about the
// same time whether or not the email exists), the access token's shape and pinning, rotating
// refresh tokens with family revocation, logout seen by every API instance, password change, and
// no password, hash or token in events, read models, the audit API or any logged line.
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTestContext } from './support/harness.ts';
import { startSystem, client } from './support/system.ts';
import { after, decodeJwt, DEFAULT_PASSWORD, eventsContaining, forgeJwt, identity, secretsOf, type User } from './support/identity-helpers.ts';
import { createServices } from '../core/adapters/services.ts';
import { sql } from '../core/adapters/db.ts';
import { openEvents } from '../core/eventing/personal-data.ts';
import { buildQueryApi } from '../query-api/app.ts';
import { buildCommandApi } from '../command-api/app.ts';

// Every line any part of the system logs, at the most verbose level and without redaction: a
// secret must not reach the logger at all, whatever the redaction rules would have done.
const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});
const capturing = pino({ name: 'auth-e2e', level: 'trace' }, sink);

const ctx = await createTestContext(t);
const system = await startSystem(t, { ...ctx, logger: capturing });
const { config } = system.services;
const id = identity(system);
const { command, query } = id;
/** Every user of this file: their passwords and tokens are searched for at the end. */
const everybody: User[] = [];
const extraSecrets: string[] = [];

async function user(email: string, password = DEFAULT_PASSWORD): Promise<User> {
  const u = await id.registerAndLogin(email, password);
  everybody.push(u);
  return u;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

t.test('register: validation, byte-length limit, case-insensitive unique email', async (t) => {
  const register = (body: Record<string, unknown>) =>
    command('POST', '/api/auth/register', { body: { displayName: 'X', password: DEFAULT_PASSWORD, ...body } });
  const cases: [string, Record<string, unknown>, number, string][] = [
    ['malformed email', { email: 'not-an-email' }, 400, 'INVALID_EMAIL'],
    ['email without a domain dot', { email: 'ada@localhost' }, 400, 'INVALID_EMAIL'],
    ['password under 8 characters', { email: 'short@example.com', password: 'short7!' }, 400, 'PASSWORD_TOO_SHORT'],
    ['password of 73 ASCII bytes', { email: 'long1@example.com', password: 'a'.repeat(73) }, 400, 'PASSWORD_TOO_LONG'],
    ['password of 25 characters but 75 UTF-8 bytes', { email: 'long2@example.com', password: '€'.repeat(25) }, 400, 'PASSWORD_TOO_LONG'],
    ['missing display name', { email: 'nodisplay@example.com', displayName: undefined }, 400, 'VALIDATION_FAILED'],
    ['unknown field', { email: 'extra@example.com', role: 'admin' }, 400, 'VALIDATION_FAILED'],
  ];
  for (const [what, body, status, code] of cases) {
    const answer = await register(body);
    t.equal(answer.status, status, `${what}: ${status}`);
    t.equal(answer.body.error?.code, code, `${what}: ${code}`);
  }
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events`)), 0, 'no refused registration appended an event');
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from credentials`)), 0, 'nor stored a credential');

  const exactly72 = 'é'.repeat(36);
  t.equal(Buffer.byteLength(exactly72), 72);
  const ok = await register({ email: 'Grace@Example.com', password: exactly72, displayName: 'Grace' });
  t.equal(ok.status, 201, 'a password of exactly 72 bytes is accepted');
  t.same(Object.keys(ok.body).sort(), ['id', 'position', 'version'], 'the answer is the id, version and position: nothing else');
  t.equal(ok.headers.etag, '"1"');
  t.equal(ok.headers['x-position'], String(ok.body.position));
  extraSecrets.push(exactly72);

  const again = await register({ email: 'grace@EXAMPLE.COM', password: 'another password 1', displayName: 'Impostor' });
  t.equal(again.status, 409, 'the same email in another case is taken');
  t.equal(again.body.error.code, 'EMAIL_TAKEN');
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events where type = 'UserRegistered'`)), 1, 'only one user was registered');
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from credentials`)), 1, 'and only one credential stored');

  const login = await command('POST', '/api/auth/login', { body: { email: 'GRACE@example.com', password: exactly72 } });
  t.equal(login.status, 200, 'login matches the email case-insensitively');
  extraSecrets.push(login.body.access_token, login.body.refresh_token);
  const longer = await command('POST', '/api/auth/login', { body: { email: 'grace@example.com', password: `${exactly72}x` } });
  t.equal(longer.status, 401, 'the 72-byte password plus one more byte does not log in: no silent truncation');
  t.equal(longer.body.error?.code, 'INVALID_CREDENTIALS');
});

t.test('login: wrong password and unknown email get the same 401, in about the same time', async (t) => {
  await user('timing@example.com');
  const wrongPassword = () => command('POST', '/api/auth/login', { body: { email: 'timing@example.com', password: 'wrong password 123' } });
  const unknownEmail = () => command('POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password 123' } });
  const a = await wrongPassword();
  const b = await unknownEmail();
  t.equal(a.status, 401);
  t.equal(b.status, 401);
  t.same(a.body, b.body, 'the same body: nothing tells the two apart');
  t.equal(a.body.error.code, 'INVALID_CREDENTIALS');

  async function timings(known: () => Promise<unknown>, unknown: () => Promise<unknown>, rounds: number) {
    const k: number[] = [];
    const u: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // interleaved, so drift hits both alike
      let started = performance.now();
      await known();
      k.push(performance.now() - started);
      started = performance.now();
      await unknown();
      u.push(performance.now() - started);
    }
    return { known: median(k), unknown: median(u) };
  }
  const cheap = await timings(wrongPassword, unknownEmail, 7);
  t.comment(`BCRYPT_COST=${config.BCRYPT_COST}: median wrong password ${cheap.known.toFixed(1)} ms, unknown email ${cheap.unknown.toFixed(1)} ms`);
  const ratio = (x: { known: number; unknown: number }) => Math.max(x.known, x.unknown) / Math.max(0.1, Math.min(x.known, x.unknown));
  t.ok(ratio(cheap) < 3, `medians within 3x at cost ${config.BCRYPT_COST} (ratio ${ratio(cheap).toFixed(2)})`);

  // At cost 4 bcrypt is cheaper than the database work, so that check cannot see a skipped hash.
  // A second command API on the same services with cost 10 makes bcrypt dominate the request.
  const costly = await buildCommandApi({ ...system.services, config: { ...config, BCRYPT_COST: 10 } });
  t.teardown(() => costly.close());
  const call = client(costly);
  const registered = await call('POST', '/api/auth/register', { body: { email: 'costly@example.com', password: DEFAULT_PASSWORD, displayName: 'Costly' } });
  t.equal(registered.status, 201);
  const slow = await timings(
    () => call('POST', '/api/auth/login', { body: { email: 'costly@example.com', password: 'wrong password 123' } }),
    () => call('POST', '/api/auth/login', { body: { email: 'nobody-else@example.com', password: 'wrong password 123' } }),
    5,
  );
  t.comment(`BCRYPT_COST=10: median wrong password ${slow.known.toFixed(1)} ms, unknown email ${slow.unknown.toFixed(1)} ms`);
  t.ok(ratio(slow) < 3, `medians within 3x at cost 10 (ratio ${ratio(slow).toFixed(2)})`);
});

t.test('tokens: OAuth-style answer, HS256 pinned, issuer and audience checked', async (t) => {
  const u = await user('tokens@example.com');
  const answer = await command('POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
  t.equal(answer.status, 200);
  t.same(Object.keys(answer.body).sort(), ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type']);
  t.equal(answer.body.token_type, 'Bearer');
  t.equal(answer.body.expires_in, 900, 'access tokens live 15 minutes');
  t.equal(answer.body.refresh_expires_in, 7 * 24 * 3600, 'refresh tokens 7 days');
  extraSecrets.push(answer.body.access_token, answer.body.refresh_token);

  const { header, claims } = decodeJwt(answer.body.access_token);
  t.equal(header.alg, 'HS256');
  t.equal(claims.iss, config.JWT_ISSUER);
  t.equal(claims.aud, config.JWT_AUDIENCE);
  t.equal(claims.sub, u.userId);
  t.equal(claims.typ, 'access');
  t.equal(Number(claims.exp) - Number(claims.iat), 900, 'exp is 900 s after iat');
  t.notOk(JSON.stringify(claims).includes(u.password), 'no secret in the claims');

  const now = Math.floor(Date.now() / 1000);
  const base = { sub: u.userId, sid: claims.sid, typ: 'access', iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, iat: now, exp: now + 600 };
  const me = (token: string) => query('GET', '/api/users/me', { token });
  const control = await me(forgeJwt(base, config.JWT_SECRET));
  t.equal(control.status, 200, 'a token made by hand with the right secret and claims is accepted (control)');

  const refused: [string, string][] = [
    ['another audience', forgeJwt({ ...base, aud: 'another-api' }, config.JWT_SECRET)],
    ['no audience', forgeJwt({ ...base, aud: undefined }, config.JWT_SECRET)],
    ['another issuer', forgeJwt({ ...base, iss: 'someone-else' }, config.JWT_SECRET)],
    ['alg none, unsigned', forgeJwt(base, null)],
    ['alg none with a signature', `${forgeJwt(base, null)}${forgeJwt(base, config.JWT_SECRET).split('.')[2]}`],
    ['HS512 with the same secret', forgeJwt(base, config.JWT_SECRET, { alg: 'HS512' })],
    ['another secret', forgeJwt(base, 'another-secret-another-secret-another-secret')],
    ['expired', forgeJwt({ ...base, iat: now - 1000, exp: now - 100 }, config.JWT_SECRET)],
    ['not an access token', forgeJwt({ ...base, typ: 'refresh' }, config.JWT_SECRET)],
    ['the refresh token as bearer', answer.body.refresh_token],
    ['garbage', 'not.a.jwt'],
  ];
  for (const [what, token] of refused) {
    const [q, c] = await Promise.all([me(token), command('POST', '/api/tenants', { token, body: { name: 'Nope', slug: 'nope-tenant' } })]);
    t.equal(q.status, 401, `${what}: refused by the query API`);
    t.equal(c.status, 401, `${what}: refused by the command API`);
  }
  const none = await me('');
  t.equal(none.status, 401, 'no token at all: 401');
  t.equal(none.body.error.code, 'UNAUTHENTICATED');
});

t.test('refresh rotates; reusing a rotated refresh token revokes the whole family', async (t) => {
  const u = await user('rotate@example.com');
  const first = await command('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } });
  t.equal(first.status, 200);
  t.not(first.body.refresh_token, u.refreshToken, 'a new refresh token');
  // The access token may be byte-identical to the first one (same claims, same second): no jti.
  t.equal(decodeJwt(first.body.access_token).claims.sid, decodeJwt(u.token).claims.sid, 'of the same session');
  extraSecrets.push(first.body.access_token, first.body.refresh_token);
  t.equal((await query('GET', '/api/users/me', { token: first.body.access_token })).status, 200, 'the new access token works');

  const reused = await command('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } });
  t.equal(reused.status, 401, 'the rotated refresh token presented again');
  t.equal(reused.body.error.code, 'REFRESH_TOKEN_REUSED');

  const successor = await command('POST', '/api/auth/refresh', { body: { refresh_token: first.body.refresh_token } });
  t.equal(successor.status, 401, 'the new refresh token died with its family');
  for (const token of [u.token, first.body.access_token]) {
    t.equal((await query('GET', '/api/users/me', { token })).status, 401, 'an access token of the family is refused by the query API');
    t.equal((await command('POST', '/api/auth/logout', { token })).status, 401, 'and by the command API');
  }
  const other = await id.login(u.email);
  extraSecrets.push(other.token, other.refreshToken);
  t.equal((await query('GET', '/api/users/me', { token: other.token })).status, 200, 'a new login is a new family and works');

  const unknown = await command('POST', '/api/auth/refresh', { body: { refresh_token: 'no-such-token' } });
  t.equal(unknown.status, 401);
  t.equal(unknown.body.error.code, 'INVALID_REFRESH_TOKEN');
});

t.test('logout: both tokens stop working on every API instance at once', async (t) => {
  const u = await user('logout@example.com');
  const second = await id.login(u.email); // another session of the same user
  extraSecrets.push(second.token, second.refreshToken);
  // Another query API instance with its own services (own pool): what every replica sees.
  const otherServices = await createServices(config, ctx.logger);
  const otherQuery = await buildQueryApi(otherServices);
  t.teardown(async () => {
    await otherQuery.close();
    await otherServices.close();
  });
  const replica = client(otherQuery);
  t.equal((await replica('GET', '/api/users/me', { token: u.token })).status, 200, 'the replica accepts the token before logout');

  const out = await command('POST', '/api/auth/logout', { token: u.token });
  t.equal(out.status, 204);
  const meQuery = await query('GET', '/api/users/me', { token: u.token });
  t.equal(meQuery.status, 401, 'query API: refused');
  t.equal(meQuery.body.error.code, 'SESSION_REVOKED');
  t.equal((await replica('GET', '/api/users/me', { token: u.token })).status, 401, 'the other query API instance: refused too');
  t.equal(
    (await command('POST', '/api/tenants', { token: u.token, body: { name: 'After logout', slug: 'after-logout' } })).status,
    401,
    'command API: refused',
  );
  t.equal((await command('POST', '/api/auth/logout', { token: u.token })).status, 401, 'logging out twice: refused');
  const refresh = await command('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } });
  t.equal(refresh.status, 401, 'the refresh token is dead too');
  t.equal(refresh.body.error.code, 'SESSION_REVOKED');
  t.equal((await replica('GET', '/api/users/me', { token: second.token })).status, 200, "the user's other session is untouched");
});

t.test('password change: other sessions end, this one stays; the new password works, the old one not', async (t) => {
  const u = await user('change@example.com');
  const other = await id.login(u.email);
  extraSecrets.push(other.token, other.refreshToken);
  const change = (body: Record<string, unknown>) => command('POST', '/api/auth/password', { token: u.token, body });

  const wrong = await change({ currentPassword: 'not the password', newPassword: 'a brand new password' });
  t.equal(wrong.status, 401, 'the current password must be right');
  t.equal(wrong.body.error.code, 'INVALID_CREDENTIALS');
  const tooLong = await change({ currentPassword: u.password, newPassword: 'x'.repeat(73) });
  t.equal(tooLong.body.error?.code, 'PASSWORD_TOO_LONG');
  const tooShort = await change({ currentPassword: u.password, newPassword: 'short' });
  t.equal(tooShort.body.error?.code, 'PASSWORD_TOO_SHORT');
  t.equal((await query('GET', '/api/users/me', { token: other.token })).status, 200, 'refused changes ended nothing');

  const newPassword = 'a brand new password';
  extraSecrets.push(newPassword);
  const ok = await change({ currentPassword: u.password, newPassword });
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  t.equal(ok.body.id, u.userId);
  t.same(Object.keys(ok.body).sort(), ['id', 'position', 'version']);

  t.equal((await query('GET', '/api/users/me', { token: u.token, headers: after(ok.body.position) })).status, 200, 'this session goes on');
  const refreshed = await command('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } });
  t.equal(refreshed.status, 200, 'and can refresh');
  extraSecrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
  t.equal((await query('GET', '/api/users/me', { token: other.token })).status, 401, "the other session's access token is refused");
  t.equal((await command('POST', '/api/auth/refresh', { body: { refresh_token: other.refreshToken } })).status, 401, 'and its refresh token');

  t.equal((await command('POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status, 401, 'the old password no longer logs in');
  const fresh = await command('POST', '/api/auth/login', { body: { email: u.email, password: newPassword } });
  t.equal(fresh.status, 200, 'the new one does');
  extraSecrets.push(fresh.body.access_token, fresh.body.refresh_token);
  const changed = await openEvents(
    ctx.pool,
    (await ctx.pool.any(sql.unsafe`select data from events where type = 'UserPasswordChanged' and stream_id = ${`user-${u.userId}`}`)).map((row) => ({
      type: 'UserPasswordChanged',
      data: (row as { data: unknown }).data,
    })),
  );
  t.equal(changed.length, 1, 'one UserPasswordChanged event');
  t.same(Object.keys((changed[0] as { data: object }).data).sort(), ['changedAt', 'client', 'userId'], 'carrying no secret');
  t.same(Object.keys((changed[0] as { data: { client: object } }).data.client).sort(), ['ip', 'userAgent'], 'only where it came from');
});

t.test('no password, hash or token in events, read models, the audit API or the logs', async (t) => {
  // Give the audit API something to show: a tenant, with a member added.
  const admin = await user('audit-admin@example.com');
  const member = await user('audit-member@example.com');
  const tenant = await id.createTenant(admin.token, 'secrets-check');
  const added = await id.addMember(admin.token, tenant.tenantId, member, 'user');
  const audit = await query('GET', `/api/tenants/${tenant.tenantId}/audit`, { token: admin.token, headers: after(added.position) });
  t.equal(audit.status, 200);
  t.ok(audit.body.items.length >= 3, "the audit API lists the tenant's events");

  const hashes = (await ctx.pool.anyFirst(sql.unsafe`select password_hash from credentials`)) as string[];
  t.ok(hashes.length >= everybody.length && hashes.every((h) => /^\$2b\$\d\d\$/.test(h)), 'credentials hold bcrypt hashes (control)');
  const refreshStored = (await ctx.pool.anyFirst(sql.unsafe`select token_hash from refresh_tokens`)) as string[];
  t.notOk(
    refreshStored.some((h) => everybody.some((u) => u.refreshToken === h)),
    'refresh tokens are stored hashed',
  );

  const secrets = [...everybody.flatMap(secretsOf), ...extraSecrets, ...hashes, '$2b$'];
  // Tables other than the write-side security state itself.
  const tables = (await ctx.pool.anyFirst(sql.unsafe`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not in ('credentials', 'sessions', 'refresh_tokens')`)) as string[];
  t.ok(tables.includes('events') && tables.includes('audit_log') && tables.includes('users'));
  const logText = logLines.join('\n');
  t.ok(logLines.length > 50 && logText.includes('incoming request'), `the logs were captured (${logLines.length} lines)`);
  for (const secret of new Set(secrets)) {
    const label = secret === '$2b$' ? 'the bcrypt prefix $2b$' : `a secret (${secret.slice(0, 4)}…)`;
    t.same(await eventsContaining(ctx, secret), [], `no event contains ${label}`);
    for (const table of tables) {
      const hits = Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from ${sql.identifier([table])} x where strpos(x::text, ${secret}) > 0`));
      if (hits > 0) t.fail(`table ${table} contains ${label}`);
    }
    t.notOk(JSON.stringify(audit.body).includes(secret), `the audit API does not show ${label}`);
    t.notOk(logText.includes(secret), `no logged line contains ${label}`);
  }
});
