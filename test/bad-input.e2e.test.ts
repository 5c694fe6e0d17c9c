// Bad input always gets a 4xx with a machine-readable code, never a 500: a battery of malformed
// requests against every route of both APIs, as an authenticated member and anonymously.
import t from 'tap';
import { createTestContext } from './support/harness.ts';
import { startSystem } from './support/system.ts';
import type { App } from '../core/adapters/http.ts';

const ctx = await createTestContext(t);
const system = await startSystem(t, ctx);

const register = await system.command.inject({
  method: 'POST',
  url: '/api/auth/register',
  payload: { email: 'bad@example.com', password: 'password123', displayName: 'Bad' },
});
const login = await system.command.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'bad@example.com', password: 'password123' } });
const created = await system.command.inject({
  method: 'POST',
  url: '/api/tenants',
  headers: { authorization: `Bearer ${login.json().access_token}` },
  payload: { name: 'Bad', slug: 'bad-input' },
});
const tenantId = created.json().id as string;
t.equal(register.statusCode, 201);

const T = tenantId;
const D = '00000000-0000-4000-8000-000000000000';
const routes: [App, string, string][] = [
  [system.command, 'POST', '/api/auth/register'],
  [system.command, 'POST', '/api/auth/login'],
  [system.command, 'POST', '/api/auth/refresh'],
  [system.command, 'POST', '/api/auth/password'],
  [system.command, 'POST', '/api/tenants'],
  [system.command, 'PUT', `/api/tenants/${T}`],
  [system.command, 'DELETE', `/api/tenants/${D}`],
  [system.command, 'POST', `/api/tenants/${T}/users`],
  [system.command, 'PUT', `/api/tenants/${T}/users/${D}`],
  [system.command, 'DELETE', `/api/tenants/${T}/users/${D}`],
  [system.command, 'POST', `/api/tenants/${T}/documents`],
  [system.command, 'PUT', `/api/tenants/${T}/documents/${D}`],
  [system.command, 'DELETE', `/api/tenants/${T}/documents/${D}`],
  [system.query, 'GET', '/api/users/me'],
  [system.query, 'GET', '/api/tenants'],
  [system.query, 'GET', `/api/tenants/${T}`],
  [system.query, 'GET', `/api/tenants/${T}/users`],
  [system.query, 'GET', `/api/tenants/${T}/audit`],
  [system.query, 'GET', `/api/tenants/${T}/audit/export`],
  [system.query, 'GET', '/api/users/me/audit'],
  [system.query, 'GET', `/api/tenants/${T}/documents`],
  [system.query, 'GET', `/api/tenants/${T}/documents/${D}`],
  [system.query, 'GET', `/api/tenants/${T}/documents/${D}/download`],
  [system.query, 'GET', `/api/tenants/${T}/documents/${D}/download-url`],
  [system.command, 'POST', `/api/tenants/${T}/webhooks`],
  [system.command, 'PUT', `/api/tenants/${T}/webhooks/${D}`],
  [system.command, 'POST', `/api/tenants/${T}/webhooks/${D}/rotate-secret`],
  [system.command, 'DELETE', `/api/tenants/${T}/webhooks/${D}`],
  [system.query, 'GET', `/api/tenants/${T}/webhooks`],
  [system.query, 'GET', `/api/tenants/${T}/webhooks/${D}`],
  [system.query, 'GET', `/api/tenants/${T}/webhooks/${D}/deliveries`],
  [system.command, 'POST', '/api/users/me/notifications/read'],
  [system.command, 'PUT', '/api/users/me/notification-preferences'],
  [system.query, 'GET', '/api/users/me/notifications'],
  [system.query, 'GET', '/api/users/me/notification-preferences'],
  // Last: with a valid token it ends the session.
  [system.command, 'POST', '/api/auth/logout'],
];

const variants: { name: string; headers?: Record<string, string>; payload?: string; url?: (url: string) => string }[] = [
  { name: 'no token' },
  { name: 'garbage token', headers: { authorization: 'Bearer not.a.jwt' } },
  { name: 'malformed JSON', headers: { 'content-type': 'application/json' }, payload: '{"email": ' },
  { name: 'JSON of the wrong shape', headers: { 'content-type': 'application/json' }, payload: '[1, 2, {"x": null}]' },
  {
    name: 'wrong field types',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 42, password: ['x'], name: {}, slug: null, role: 'root', title: 7, refresh_token: 1, displayName: false }),
  },
  {
    name: 'a huge string',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'a'.repeat(100_000), name: 'n'.repeat(100_000), title: 't'.repeat(10_000) }),
  },
  { name: 'a body over the limit', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'y'.repeat(2 * 1024 * 1024) }) },
  { name: 'an unknown content type', headers: { 'content-type': 'application/x-nonsense' }, payload: 'hello' },
  {
    name: 'a bad If-Match and Idempotency-Key',
    headers: { 'content-type': 'application/json', 'if-match': 'yesterday', 'idempotency-key': '\u00e9\u00e9' },
    payload: '{}',
  },
  { name: 'a bad X-Min-Position', headers: { 'x-min-position': '-5' } },
  { name: 'a non-uuid id', url: (url) => url.replace(D, 'not-a-uuid').replace(T, '../../etc') },
  { name: 'bad query parameters', url: (url) => `${url}?limit=-1&cursor=%%%&sort=drop&expires_in=abc&before=x` },
  {
    name: 'a broken multipart body',
    headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    payload: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
  },
];

for (const variant of variants) {
  t.test(`${variant.name}: every route answers 4xx with a code`, async (t) => {
    // A session of its own: the battery ends with a logout.
    const session = await system.command.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'bad@example.com', password: 'password123' } });
    const token = session.json().access_token as string;
    for (const [app, method, url] of routes) {
      const authorized = variant.name === 'no token' || variant.headers?.authorization ? {} : { authorization: `Bearer ${token}` };
      const response = await app.inject({
        method: method as 'GET',
        url: variant.url ? variant.url(url) : url,
        headers: { ...authorized, ...variant.headers },
        ...(variant.payload === undefined || method === 'GET' ? {} : { payload: variant.payload }),
      });
      const label = `${method} ${url} → ${response.statusCode}`;
      if (response.statusCode < 400) {
        t.pass(`${label} (accepted)`);
        continue;
      }
      t.ok(response.statusCode < 500, label);
      t.match(response.json(), { error: { code: /^[A-Z_]+$/, message: String } }, `${label} has a machine-readable code`);
    }
  });
}
