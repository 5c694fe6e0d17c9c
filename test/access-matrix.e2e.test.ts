// Role × route matrix, generated from the route tables of both APIs (Fastify's printRoutes), judged
// against test/access-matrix.expectations.ts. Every forbidden cell must answer 401/403/404 and
// change nothing: the event store and every read model (main and tenant database) are compared
// before and after. Allowed reads must answer 2xx (so the matrix cannot pass by denying everything).
import t from 'tap';
import { createHash } from 'node:crypto';
import type { App } from '../core/adapters/http.ts';
import { EXPECTATIONS, UNJUDGED, type Expectation, type Role } from './access-matrix.expectations.ts';
import { startDocumentSystem, tenantWith, uploadOk, encodeMultipart, PDF, mainQuery, tenantDatabase, eventually, after } from './support/document-helpers.ts';
import { queryDatabase } from './support/identity-helpers.ts';

/** Every `METHOD url` of an app, read from printRoutes' tree (HEAD and OPTIONS left out). */
export function routesOf(app: App): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line.replace(/\u00a0/g, ' '));
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const url = stack.join('');
    for (const method of (match[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)) {
      if (method !== 'HEAD' && method !== 'OPTIONS') routes.push(`${method} ${url}`);
    }
  }
  return routes;
}

t.test('every route of both APIs × every role: forbidden cells answer 401/403/404 and change nothing', async (t) => {
  const s = await startDocumentSystem(t, { WEBHOOK_ALLOW_PRIVATE: 'loopback' });
  const a = await tenantWith(s, 'matrix-a', ['user', 'viewer']);
  const [user, viewer] = a.members as [typeof a.admin, typeof a.admin];
  const b = await tenantWith(s, 'matrix-b');
  const doc = await uploadOk(s, a.admin.token, a.tenantId, { data: PDF('matrix'), filename: 'm.pdf', contentType: 'application/pdf' });
  await s.id.query('GET', `/api/tenants/${a.tenantId}/documents/${doc.id}`, { token: a.admin.token, headers: after(doc.position) });
  const tokens: Record<Role, string | undefined> = {
    admin: a.admin.token,
    user: user.token,
    viewer: viewer.token,
    outsider: b.admin.token,
    anonymous: undefined,
  };
  const hook = await s.id.command('POST', `/api/tenants/${a.tenantId}/webhooks`, {
    token: a.admin.token,
    body: { url: 'http://127.0.0.1:9/matrix', events: ['TenantDeleted'] },
  });
  t.equal(hook.status, 201, 'a webhook for the webhook routes');
  await s.id.query('GET', `/api/tenants/${a.tenantId}/webhooks/${hook.body.id}`, { token: a.admin.token, headers: after(hook.body.position) });
  const params: Record<string, string> = {
    tenantId: a.tenantId,
    documentId: doc.id,
    userId: viewer.userId,
    webhookId: hook.body.id,
    invitationId: '00000000-0000-4000-8000-000000000001',
  };

  const apps = { command: s.system.command, query: s.system.query } as const;
  const routes = Object.entries(apps)
    .flatMap(([api, app]) => routesOf(app).map((route) => `${api} ${route}`))
    .filter((route) => !UNJUDGED.some((pattern) => pattern.test(route)));
  t.ok(routes.length >= 25, `routes read from both APIs (${routes.length})`);
  const missing = routes.filter((route) => !(route in EXPECTATIONS));
  t.same(
    missing,
    [],
    missing.length
      ? `these routes have no row in test/access-matrix.expectations.ts; add one for each (who may call it): ${missing.join(' | ')}`
      : 'every route has a row in the matrix',
  );
  const stale = Object.keys(EXPECTATIONS).filter((key) => !routes.includes(key));
  t.same(stale, [], `rows for routes the APIs no longer have: ${stale.join(' | ')}`);

  async function send(route: string, expectation: Expectation, role: Role) {
    const [api, method, url] = route.split(' ') as ['command' | 'query', string, string];
    const path = url.replace(/:(\w+)/g, (_, name: string) => {
      if (!(name in params)) throw new Error(`${route}: no value for path parameter :${name} in the matrix test`);
      return params[name]!;
    });
    const headers: Record<string, string> = tokens[role] ? { authorization: `Bearer ${tokens[role]}` } : {};
    let payload: string | Buffer | undefined;
    if (expectation.body && 'multipart' in expectation.body) {
      const mp = encodeMultipart([
        { name: 'title', value: `by ${role}` },
        { name: 'file', filename: `${role}.pdf`, contentType: 'application/pdf', data: PDF(`matrix ${role}`) },
      ]);
      headers['content-type'] = mp.contentType;
      payload = mp.body;
    } else if (expectation.body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(expectation.body.json);
    }
    const response = await apps[api].inject({ method: method as 'GET', url: path, headers, ...(payload === undefined ? {} : { payload }) });
    return { status: response.statusCode, body: response.body };
  }

  // Allowed reads first: some reads record an event (a download URL is issued on the audit trail).
  for (const route of routes.filter((r) => r.split(' ')[1] === 'GET' && EXPECTATIONS[r])) {
    for (const [role, cell] of Object.entries(EXPECTATIONS[route]!.access) as [Role, string][]) {
      if (cell !== 'allow') continue;
      const answer = await send(route, EXPECTATIONS[route]!, role);
      // /ready may say 503 on a loaded machine (its checks time out after 2 s): that is not a refusal.
      const fine = (answer.status >= 200 && answer.status < 300) || (route.endsWith(' /ready') && answer.status === 503);
      t.ok(fine, `${route} as ${role}: allowed, answers ${answer.status}`, { body: answer.body });
    }
  }

  const before = await stableState(s.ctx, a.tenantId, b.tenantId);
  let denied = 0;
  for (const route of routes.filter((r) => EXPECTATIONS[r])) {
    for (const [role, cell] of Object.entries(EXPECTATIONS[route]!.access) as [Role, string][]) {
      if (cell !== 'deny') continue;
      const answer = await send(route, EXPECTATIONS[route]!, role);
      denied += 1;
      t.ok([401, 403, 404].includes(answer.status), `${route} as ${role}: forbidden, answers ${answer.status}`, { body: answer.body });
    }
  }
  t.ok(denied >= 40, `${denied} forbidden cells sent`);
  const afterwards = await stableState(s.ctx, a.tenantId, b.tenantId);
  t.equal(afterwards.events, before.events, 'no event was appended by a forbidden request');
  for (const [table, digest] of Object.entries(before.tables)) t.equal(afterwards.tables[table], digest, `read model ${table} unchanged`);
});

type State = { events: number; tables: Record<string, string> };

/** The event count and a digest of every table of the main and both tenant databases, once two reads 500 ms apart agree. */
async function stableState(ctx: Parameters<typeof mainQuery>[0], ...tenantIds: string[]): Promise<State> {
  const databases = [ctx.config.DATABASE_URL.split('/').at(-1)!.split('?')[0]!, ...(await Promise.all(tenantIds.map((id) => tenantDatabase(ctx, id))))];
  async function read(): Promise<State> {
    const tables: Record<string, string> = {};
    for (const database of databases) {
      const names = (
        await queryDatabase(
          ctx,
          database,
          `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
        )
      ).rows.map((r: { table_name: string }) => r.table_name);
      for (const name of names) {
        const rows = (await queryDatabase(ctx, database, `select t::text as row from "${name}" t order by 1`)).rows.map((r: { row: string }) => r.row);
        tables[`${database}.${name}`] = createHash('sha256').update(rows.join('\n')).digest('hex');
      }
    }
    const events = Number((await mainQuery(ctx, 'select count(*)::int as n from events'))[0].n);
    return { events, tables };
  }
  let previous = await read();
  return eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const current = await read();
      const same = JSON.stringify(current) === JSON.stringify(previous);
      previous = current;
      return same ? current : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 0 },
  );
}
