// Commands decided on a command API's cached stream states (core/eventing/command-handler.ts),
// across two command API instances, each with its own cache, against the real PostgreSQL, Kafka
// and MinIO of scripts/infra.sh. A replica whose cache still has a member's old role must not let
// a command through on it, and must not refuse a member it has not seen yet.
import t from 'tap';
import { createServices } from '../core/adapters/services.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { buildCommandApi } from '../command-api/app.ts';
import { client } from './support/system.ts';
import { mainQuery, PDF, startDocumentSystem, tenantWith, uploadOk } from './support/document-helpers.ts';

const s = await startDocumentSystem(t);
const { ctx, id } = s;
// A second command API instance with its own services: its own pool and its own aggregate cache.
const replicaServices = await createServices(loadConfig({ ...process.env, ...ctx.env }), ctx.logger);
const replicaApp = await buildCommandApi(replicaServices);
const replica = client(replicaApp);
t.teardown(async () => {
  await replicaApp.close();
  await replicaServices.close();
});

const updatesOf = async (documentId: string) =>
  Number((await mainQuery(ctx, `select count(*)::int as n from events where stream_id = $1 and type = 'DocumentUpdated'`, [`document-${documentId}`]))[0].n);

t.test('a member removed or demoted on one instance is refused on the other at once, and nothing is appended', async (t) => {
  const { admin, tenantId, members } = await tenantWith(s, 'cache-revoke', ['user', 'user']);
  const [removed, demoted] = members as [(typeof members)[0], (typeof members)[0]];
  const mine = await uploadOk(s, removed.token, tenantId, { data: PDF('removed'), fields: { title: 'r' } });
  const theirs = await uploadOk(s, demoted.token, tenantId, { data: PDF('demoted'), fields: { title: 'd' } });
  // The replica decides (and caches tenant, members and document) for both members.
  for (const [user, doc] of [
    [removed, mine],
    [demoted, theirs],
  ] as const) {
    const warm = await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, { token: user.token, body: { title: 'warm' } });
    t.equal(warm.status, 200, 'the replica accepts the member while the member is one');
  }
  const before = [await updatesOf(mine.id), await updatesOf(theirs.id)];

  // On the primary: one member removed, the other made a viewer.
  t.equal((await id.command('DELETE', `/api/tenants/${tenantId}/users/${removed.userId}`, { token: admin.token })).status, 200);
  t.equal((await id.command('PUT', `/api/tenants/${tenantId}/users/${demoted.userId}`, { token: admin.token, body: { role: 'viewer' } })).status, 200);

  // At once on the replica, whose cache still has them as users.
  const afterRemoval = await replica('PUT', `/api/tenants/${tenantId}/documents/${mine.id}`, { token: removed.token, body: { title: 'after removal' } });
  t.ok([403, 404].includes(afterRemoval.status), `the removed member is refused (${afterRemoval.status} ${afterRemoval.body.error?.code})`);
  const afterDemotion = await replica('PUT', `/api/tenants/${tenantId}/documents/${theirs.id}`, { token: demoted.token, body: { title: 'after demotion' } });
  t.equal(afterDemotion.status, 403, `the viewer is refused (${afterDemotion.body.error?.code})`);
  t.same([await updatesOf(mine.id), await updatesOf(theirs.id)], before, 'no DocumentUpdated was appended for either');
});

t.test('a member added on one instance is accepted on the other at once', async (t) => {
  const { admin, tenantId } = await tenantWith(s, 'cache-admit');
  const doc = await uploadOk(s, admin.token, tenantId, { data: PDF('admit'), fields: { title: 'a' } });
  // The replica caches the tenant's members before the newcomer joins.
  t.equal((await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, { token: admin.token, body: { title: 'warm' } })).status, 200);
  const newcomer = await id.registerAndLogin('cache-admit-newcomer@example.com');
  await id.addMember(admin.token, tenantId, newcomer, 'admin');
  const answer = await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, { token: newcomer.token, body: { title: 'by the newcomer' } });
  t.equal(answer.status, 200, 'the replica decides again on fresh states rather than refuse from its cache');
});

t.test('an If-Match the replica has not seen yet is checked against the stream, not the cache', async (t) => {
  const { admin, tenantId } = await tenantWith(s, 'cache-ifmatch');
  const doc = await uploadOk(s, admin.token, tenantId, { data: PDF('ifmatch'), fields: { title: 'v1' } });
  const onReplica = await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, { token: admin.token, body: { title: 'v2' } });
  t.equal(onReplica.status, 200);
  // The primary moves the document on; the client read that newer version and sends it.
  const onPrimary = await id.command('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, {
    token: admin.token,
    body: { title: 'v3' },
    headers: { 'if-match': onReplica.headers.etag as string },
  });
  t.equal(onPrimary.status, 200);
  const current = onPrimary.headers.etag as string;
  const next = await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, {
    token: admin.token,
    body: { title: 'v4' },
    headers: { 'if-match': current },
  });
  t.equal(next.status, 200, `the replica accepts the current version (${current}) its cache is behind`);
  const stale = await replica('PUT', `/api/tenants/${tenantId}/documents/${doc.id}`, {
    token: admin.token,
    body: { title: 'v5' },
    headers: { 'if-match': current },
  });
  t.equal(stale.status, 409, 'and refuses it once it is stale');
  t.equal(stale.body.error.code, 'VERSION_CONFLICT');
});
