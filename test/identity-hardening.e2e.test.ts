// Identity findings of the security review (issue 11): a token naming another user's session is
// refused, Idempotency-Key fingerprints are keyed (no offline password guessing from the table),
// sessions have an absolute lifetime even when refreshed, expired state is purged on a schedule,
// token answers are not cacheable, and HTTP hardening headers, CORS, proxy trust and /ready.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createTestContext, eventually } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import { decodeJwt, forgeJwt, identity } from './support/identity-helpers.ts';
import { sql } from '../core/adapters/db.ts';
import { purgeExpired, startPurger } from '../core/eventing/purge.ts';
import { createServices } from '../core/adapters/services.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { buildCommandApi } from '../command-api/app.ts';

const ctx = await createTestContext(t, { OPERATOR_TOKEN: 'operator-token-for-tests-0123456789', CORS_ORIGINS: 'https://app.example.com' });
const system = await startSystem(t, ctx);
const { config } = system.services;
const id = identity(system);
const { command, query } = id;

t.test("a token naming another user's session is refused, even when signed with the right key", async (t) => {
  const ada = await id.registerAndLogin('sid-ada@example.com');
  const bob = await id.registerAndLogin('sid-bob@example.com');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sid: decodeJwt(ada.token).claims.sid, typ: 'access', iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, iat: now, exp: now + 600 };
  const own = await query('GET', '/api/users/me', { token: forgeJwt({ ...claims, sub: ada.userId }, config.JWT_SECRET) });
  t.equal(own.status, 200, "control: ada's own session with her sub");
  const borrowed = forgeJwt({ ...claims, sub: bob.userId }, config.JWT_SECRET);
  const asBob = await query('GET', '/api/users/me', { token: borrowed });
  t.equal(asBob.status, 401, "bob's sub on ada's session: refused by the query API");
  t.equal(asBob.body.error.code, 'SESSION_REVOKED');
  t.equal((await command('POST', '/api/tenants', { token: borrowed, body: { name: 'Nope', slug: 'sid-nope' } })).status, 401, 'and by the command API');
  const garbage = forgeJwt({ ...claims, sub: 'not-a-uuid', sid: 'nor-this' }, config.JWT_SECRET);
  t.equal((await query('GET', '/api/users/me', { token: garbage })).status, 401, 'claims that are not ids: 401, not 500');
});

t.test('Idempotency-Key: the stored fingerprint is keyed, so a password cannot be tested against it offline', async (t) => {
  const body = { email: 'idem-secret@example.com', password: 'guessable password 1', displayName: 'Idem' };
  const first = await command('POST', '/api/auth/register', { body, headers: { 'idempotency-key': 'register-1' } });
  t.equal(first.status, 201);
  const again = await command('POST', '/api/auth/register', { body, headers: { 'idempotency-key': 'register-1' } });
  t.same(again.body, first.body, 'a retry still replays the first answer');
  const other = await command('POST', '/api/auth/register', {
    body: { ...body, password: 'another password 22' },
    headers: { 'idempotency-key': 'register-1' },
  });
  t.equal(other.status, 422, 'another body under the key is still refused');
  const stored = (await ctx.pool.oneFirst(sql.unsafe`select request_hash from idempotency_keys where key = 'register-1'`)) as string;
  const unsalted = createHash('sha256')
    .update(`POST /api/auth/register\n${JSON.stringify(body)}`)
    .digest('hex');
  t.not(stored, unsalted, 'the fingerprint is not the plain SHA-256 of the body (which a dictionary attack could match)');
  t.notOk(stored.includes(body.password));
});

t.test('a session ends at its absolute lifetime even when refreshed; the purge job removes what ended', async (t) => {
  const u = await id.registerAndLogin('lifetime@example.com');
  const sid = decodeJwt(u.token).claims.sid as string;
  const refreshed = await command('POST', '/api/auth/refresh', { body: { refresh_token: u.refreshToken } });
  t.equal(refreshed.status, 200, 'a young session refreshes');
  t.equal(refreshed.headers['cache-control'], 'no-store', 'token answers are not cacheable');
  t.ok(refreshed.body.refresh_expires_in <= config.REFRESH_TOKEN_TTL_SECONDS);
  // The login was 30 days and a minute ago: move the session's start back (the clock cannot be).
  await ctx.pool.query(
    sql.unsafe`update sessions set created_at = now() - make_interval(secs => ${config.SESSION_MAX_LIFETIME_SECONDS + 60}) where session_id = ${sid}`,
  );
  const tooOld = await command('POST', '/api/auth/refresh', { body: { refresh_token: refreshed.body.refresh_token } });
  t.equal(tooOld.status, 401, 'past the absolute lifetime, refreshing no longer extends the session');
  t.equal(tooOld.body.error.code, 'SESSION_REVOKED');

  // A session near its end gets a refresh token that does not outlive it.
  const v = await id.registerAndLogin('lifetime-end@example.com');
  const vSid = decodeJwt(v.token).claims.sid as string;
  await ctx.pool.query(
    sql.unsafe`update sessions set created_at = now() - make_interval(secs => ${config.SESSION_MAX_LIFETIME_SECONDS - 3600}) where session_id = ${vSid}`,
  );
  const last = await command('POST', '/api/auth/refresh', { body: { refresh_token: v.refreshToken } });
  t.equal(last.status, 200);
  t.ok(
    last.body.refresh_expires_in <= 3600 && last.body.refresh_expires_in > 3500,
    `the refresh token ends with the session (${last.body.refresh_expires_in} s)`,
  );

  // Expired state of every kind, then one purge.
  await ctx.pool.query(sql.unsafe`update sessions set expires_at = now() - interval '1 second' where session_id = ${sid}`);
  await ctx.pool.query(sql.unsafe`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'register-1'`);
  await ctx.pool.query(sql.unsafe`insert into rate_limits (key, hits, window_ends) values ('old-window', 3, now() - interval '1 minute')`);
  const published = Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox where published_at is not null`));
  t.ok(published > 0, 'the relay has published rows (control)');
  await ctx.pool.query(sql.unsafe`update outbox set published_at = now() - interval '30 days' where published_at is not null`);
  const counts = await purgeExpired(ctx.pool, config);
  t.ok(counts, 'the purge ran (it held the lock)');
  t.ok(
    (counts?.sessions ?? 0) >= 1 && (counts?.idempotencyKeys ?? 0) >= 1 && (counts?.outbox ?? 0) >= published && (counts?.rateLimits ?? 0) >= 1,
    `it purged ${JSON.stringify(counts)}`,
  );
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from sessions where session_id = ${sid}`)), 0, 'the ended session is gone');
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from refresh_tokens r join sessions s using (session_id) where s.session_id = ${sid}`)),
    0,
    'with its refresh tokens',
  );
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from idempotency_keys where key = 'register-1'`)), 0, 'the old idempotency answer is gone');
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox where published_at < now() - interval '8 days'`)),
    0,
    'old published outbox rows are gone',
  );
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from events`)) > 0, true, 'the events themselves stay');
  t.equal((await query('GET', '/api/users/me', { token: v.token })).status, 200, 'live sessions are untouched');

  // The scheduled job does the same on its own (every second here); two of them at once are harmless.
  await ctx.pool.query(sql.unsafe`update idempotency_keys set created_at = now() - interval '25 hours'`);
  const scheduled = [1, 2].map(() => startPurger({ pool: ctx.pool, config: { ...config, PURGE_INTERVAL_SECONDS: 1 }, logger: ctx.logger }));
  t.teardown(() => Promise.all(scheduled.map((p) => p.stop())).then(() => undefined));
  await eventually(async () => (Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from idempotency_keys`)) === 0 ? true : undefined), {
    timeoutMs: 10_000,
  });
  t.pass('the scheduled purge removed the expired idempotency answers');
});

t.test('HTTP hardening: helmet headers, CORS from configuration, no proxy trust by default, /ready details for operators only', async (t) => {
  for (const [name, call] of [
    ['command', command],
    ['query', query],
  ] as const) {
    const health = await call('GET', '/health');
    t.equal(health.headers['x-content-type-options'], 'nosniff', `${name}: X-Content-Type-Options`);
    t.match(String(health.headers['content-security-policy']), /default-src 'none'/, `${name}: a CSP`);
    t.ok(health.headers['strict-transport-security'], `${name}: HSTS`);
    const allowed = await call('OPTIONS', '/api/tenants', { headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com', `${name}: the configured origin is allowed`);
    const denied = await call('OPTIONS', '/api/tenants', { headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    t.notOk(denied.headers['access-control-allow-origin'], `${name}: another origin is not`);
    const publicReady = await call('GET', '/ready');
    t.same(publicReady.body, { status: 'ready', service: `${name}-api` }, `${name}: public /ready says only ready or not`);
    const operatorReady = await call('GET', '/ready', { token: 'operator-token-for-tests-0123456789' });
    t.same(
      operatorReady.body.checks.map((c: { name: string }) => c.name),
      ['postgres', 'kafka', 's3'],
      `${name}: the operator sees the checks`,
    );
    t.notOk((await call('GET', '/ready', { token: 'operator-token-for-tests-0123456788' })).body.checks, `${name}: a wrong operator token sees none`);
  }
  const docs = await query('GET', '/api/docs');
  t.notMatch(String(docs.headers['content-security-policy']), /default-src 'none'/, 'the Swagger UI keeps a CSP it can work with');

  const login = await command('POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' } });
  t.equal(login.headers['cache-control'], 'no-store', 'even a refused login is not cacheable');
  // X-Forwarded-For is believed only from a configured proxy: rate limits count per client IP.
  const behindProxy = await createServices(loadConfig({ ...process.env, ...ctx.env, TRUST_PROXY: '198.51.100.1' }), ctx.logger);
  t.teardown(() => behindProxy.close());
  for (const [setting, services, expected] of [
    ['default', system.services, '198.51.100.1'],
    ['TRUST_PROXY=198.51.100.1', behindProxy, '203.0.113.9'],
  ] as const) {
    const app = await buildCommandApi(services);
    t.teardown(() => app.close());
    app.get('/whoami', async (request) => ({ ip: request.ip }));
    const seen = await app.inject({ method: 'GET', url: '/whoami', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '198.51.100.1' });
    t.equal(seen.json().ip, expected, `${setting}: the client IP is ${expected}`);
  }
});
