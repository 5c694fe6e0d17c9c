// The tenant projection applies what a catch-up loads as a batch (a run of DocumentUpdated is one
// statement): several updates of one document in one batch end exactly where applying them one
// by one would, and applying the batch again changes nothing. Real PostgreSQL and Kafka.
import t from 'tap';
import { createDatabasePool, sql, withDatabase } from '../core/adapters/db.ts';
import { applyFromCheckpoint, LATEST } from '../core/eventing/projector.ts';
import { tenantEventSteps, TENANT_CHECKPOINT } from '../projectors/tenant/projection.ts';
import { after, startDocumentSystem, tenantPlacement, tenantWith, uploadOk, type DocSystem } from './support/document-helpers.ts';

const s: DocSystem = await startDocumentSystem(t);
const { ctx } = s;

t.test('several updates of a document in one batch end where one by one would', async (t) => {
  const { tenantId, admin } = await tenantWith(s, 'batched-updates');
  const one = await uploadOk(s, admin.token, tenantId, { data: Buffer.from('one'), filename: 'one.txt' });
  const two = await uploadOk(s, admin.token, tenantId, { data: Buffer.from('two'), filename: 'two.txt' });
  await s.id.query('GET', `/api/tenants/${tenantId}/documents/${two.id}`, { token: admin.token, headers: after(two.position) });
  // From here the events stay on the log until this test applies them, all in one batch.
  await s.system.projectors.find((p) => p.name === 'tenant')!.stop();
  const { database } = await tenantPlacement(ctx, tenantId);
  const db = await createDatabasePool(withDatabase(ctx.config.DATABASE_URL, database));
  t.teardown(() => db.end());
  const rows = async () =>
    (
      (await db.any(sql.unsafe`select document_id, title, description, tags, version from documents order by document_id`)) as unknown as {
        document_id: string;
        title: string;
        description: string | null;
        tags: string[];
        version: number;
      }[]
    ).map((r) => ({ ...r, version: Number(r.version) }));
  const before = new Map((await rows()).map((r) => [r.document_id, r]));
  const put = async (id: string, body: Record<string, unknown>) => {
    const answer = await s.id.command('PUT', `/api/tenants/${tenantId}/documents/${id}`, { token: admin.token, body });
    t.equal(answer.status, 200, JSON.stringify(body));
  };
  await put(one.id, { title: 'first title' });
  await put(one.id, { description: 'a description' });
  await put(two.id, { tags: ['x'] });
  await put(one.id, { tags: ['a', 'b'] });
  await put(one.id, { title: 'last title' });

  const applied = await applyFromCheckpoint({ db, key: TENANT_CHECKPOINT, upTo: LATEST, ...tenantEventSteps(s.system.services.pool, tenantId) });
  t.equal(applied, 5, 'the five updates, in one batch');
  const expected = [
    { ...before.get(one.id)!, title: 'last title', description: 'a description', tags: ['a', 'b'], version: 5 },
    { ...before.get(two.id)!, tags: ['x'], version: 2 },
  ].sort((x, y) => (x.document_id < y.document_id ? -1 : 1));
  t.same(await rows(), expected, 'each document as its updates one by one leave it');

  // Applied again from an earlier checkpoint (a replay after a crash): nothing changes.
  await db.query(sql.unsafe`update projection_checkpoints set position = 0 where projection = ${TENANT_CHECKPOINT}`);
  await applyFromCheckpoint({ db, key: TENANT_CHECKPOINT, upTo: LATEST, ...tenantEventSteps(s.system.services.pool, tenantId) });
  t.same(await rows(), expected, 'a replay leaves the rows as they were');
});
