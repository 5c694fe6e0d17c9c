// `npm run projections -- list|retry` run as an operator would (child processes) against a live
// system whose tenant projection cannot apply a tenant's events; and the per-scope lag in /metrics.
import t from 'tap';
import { startDocumentSystem, tenantWith, uploadOk, tenantQuery, mainQuery, eventually, after } from './support/document-helpers.ts';
import { runNode } from './support/identity-helpers.ts';

const s = await startDocumentSystem(t);
const { ctx } = s;
const tenant = await tenantWith(s, 'pj-one');
const projections = (args: string[]) => runNode(t, 'scripts/projections.ts', args, { ...ctx.env, LOG_LEVEL: 'info' }, 90_000);
const lines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
const setAside = () => mainQuery(ctx, `select state, reason, failures from projection_set_aside where projection = 'tenant' and scope = $1`, [tenant.tenantId]);

await tenantQuery(ctx, tenant.tenantId, 'alter table documents rename to documents_moved');
const doc = await uploadOk(s, tenant.admin.token, tenant.tenantId, { data: Buffer.from('set aside'), filename: 'a.txt', fields: { title: 'Waiting' } });

t.test('list shows the set-aside scope with its reason', async (t) => {
  await eventually(async () => ((await setAside())[0]?.state === 'failed' ? true : undefined));
  const listed = await projections(['list']);
  t.equal(listed.code, 0, { output: listed.output });
  const row = lines(listed.output).find((l) => l.msg === 'set-aside scope' && l.scope === tenant.tenantId);
  t.match(row, { projection: 'tenant', tenant: 'pj-one', state: 'failed', reason: /documents/ });
});

t.test('the lag of the scope is in /metrics, in events and seconds', async (t) => {
  const sample = (name: string) => new RegExp(`ledgerline_${name}\\{projection="tenant",scope="${tenant.tenantId}"\\} ([0-9.e+-]+)`);
  const value = await eventually(
    async () => {
      const metrics = (await s.system.query.inject({ method: 'GET', url: '/metrics' })).body;
      const events = Number(sample('projector_scope_lag_events').exec(metrics)?.[1] ?? 0);
      const seconds = Number(sample('projector_scope_lag_seconds').exec(metrics)?.[1] ?? 0);
      return events >= 2 && seconds > 0 ? { events, seconds } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  t.ok(value.events >= 2, `lag ${value.events} events (the upload's document and file events)`);
});

t.test('retry while still broken tries at once and reports the reason', async (t) => {
  const before = await eventually(
    async () => {
      const failures = (await setAside())[0]?.failures ?? 0;
      return failures >= 4 ? failures : undefined;
    },
    { timeoutMs: 30_000 },
  );
  const retried = await projections(['retry', 'pj-one']);
  t.equal(retried.code, 1, { output: retried.output });
  const report = lines(retried.output).find((l) => l.msg === 'scope failed again');
  t.match(report?.rows, [{ projection: 'tenant', state: 'failed', reason: /documents/ }]);
  t.ok(report?.rows[0].failures < before, `the back-off was reset by the retry (${String(report?.rows[0].failures)} failures now, ${before} before)`);
});

t.test('after the fix, retry catches the scope up and list is empty', async (t) => {
  await tenantQuery(ctx, tenant.tenantId, 'alter table documents_moved rename to documents');
  const retried = await projections(['retry', tenant.tenantId]);
  t.equal(retried.code, 0, { output: retried.output });
  t.match(retried.output, /scope caught up|not set aside/);
  const got = await s.id.query('GET', `/api/tenants/${tenant.tenantId}/documents/${doc.id}`, { token: tenant.admin.token, headers: after(doc.position) });
  t.equal(got.status, 200, 'the document is readable');
  const listed = await projections(['list']);
  t.match(listed.output, /no scope is set aside/);
  const unknown = await projections(['retry', 'no-such-scope']);
  t.equal(unknown.code, 1);
  t.match(unknown.output, /no such scope/);
});
