// One tenant's database becomes unreachable (connections refused, as during a restore or a
// failed disk): the other tenants keep projecting and answering, that tenant's scope is set aside
// with its reason, its reads answer 503 with a code (not 500), and once the database accepts
// connections again it catches up by itself, including the upload accepted during the outage.
import t from 'tap';
import { startDocumentSystem, tenantWith, uploadOk, PDF, tenantDatabase, eventually, after } from './support/document-helpers.ts';

t.test('an unreachable tenant database is set aside with its reason; the others go on; it recovers', async (t) => {
  const s = await startDocumentSystem(t);
  const a = await tenantWith(s, 'outage-a');
  const b = await tenantWith(s, 'outage-b');
  const tenantProjector = s.system.projectors[3]!; // main, audit, provisioner, tenant, file-janitor (startSystem's order)
  const databaseA = await tenantDatabase(s.ctx, a.tenantId);
  const shut = async (allow: boolean) => {
    await s.ctx.admin(`alter database "${databaseA}" with allow_connections ${allow}`);
    if (!allow) await s.ctx.admin('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [databaseA]);
  };
  t.teardown(() => shut(true).catch(() => {}));

  await shut(false);
  // Commands need only the main database: both uploads are accepted.
  const docA = await uploadOk(s, a.admin.token, a.tenantId, { data: PDF('during the outage'), filename: 'a.pdf', contentType: 'application/pdf' });
  const docB = await uploadOk(s, b.admin.token, b.tenantId, { data: PDF('business as usual'), filename: 'b.pdf', contentType: 'application/pdf' });

  const readB = await s.id.query('GET', `/api/tenants/${b.tenantId}/documents/${docB.id}`, { token: b.admin.token, headers: after(docB.position) });
  t.equal(readB.status, 200, 'the other tenant projects and answers during the outage');
  const listA = await s.id.query('GET', `/api/tenants/${a.tenantId}/documents`, { token: a.admin.token });
  t.equal(listA.status, 503, 'reads of the unreachable tenant answer 503');
  t.equal(listA.body?.error?.code, 'DATABASE_UNAVAILABLE', 'with a code');
  const setAside = await eventually(async () => tenantProjector.status()[a.tenantId]);
  t.equal(setAside.state, 'failed', 'the tenant scope is set aside');
  t.match(setAside.error, /not currently accepting connections|terminat/i, 'with its reason');
  t.notOk(tenantProjector.status()[b.tenantId], 'the other tenant is not set aside');

  await shut(true);
  const readA = await eventually(
    async () => {
      const answer = await s.id.query('GET', `/api/tenants/${a.tenantId}/documents/${docA.id}`, { token: a.admin.token });
      return answer.status === 200 ? answer : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  t.equal(readA.body.id, docA.id, 'the upload accepted during the outage is projected once the database is back');
  await eventually(async () => (tenantProjector.status()[a.tenantId] ? undefined : true));
  t.pass('the scope is no longer set aside');
});
