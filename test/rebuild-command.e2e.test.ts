// `npm run rebuild` run as an operator would (a child process) against a live system: a dry run
// finds a tampered row, --all-tenants survives a SIGKILL and resumes without redoing finished
// tenants, one broken tenant does not stop the others, the audit trail rebuilds, and no
// consumer group is left behind.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { startDocumentSystem, tenantWith, uploadOk, tenantQuery, mainQuery, eventually, after } from './support/document-helpers.ts';
import { runNode } from './support/identity-helpers.ts';

const s = await startDocumentSystem(t);
const { ctx } = s;
const tenants: (Awaited<ReturnType<typeof tenantWith>> & { slug: string; ids: string[] })[] = [];
for (const slug of ['rb-one', 'rb-two', 'rb-three']) {
  const tenant = await tenantWith(s, slug);
  let position = 0;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const up = await uploadOk(s, tenant.admin.token, tenant.tenantId, {
      data: Buffer.from(`${slug} content ${i % 2}`),
      filename: `f${i}.txt`,
      fields: { title: `Doc ${i}`, tags: i % 2 ? 'odd' : 'even' },
    });
    ids.push(up.id);
  }
  position = (await s.id.command('PUT', `/api/tenants/${tenant.tenantId}/documents/${ids[0]}`, { token: tenant.admin.token, body: { title: 'Renamed' } })).body
    .position;
  position = (await s.id.command('DELETE', `/api/tenants/${tenant.tenantId}/documents/${ids[1]}`, { token: tenant.admin.token })).body.position;
  await s.id.query('GET', `/api/tenants/${tenant.tenantId}/documents`, { token: tenant.admin.token, headers: after(position) });
  tenants.push({ ...tenant, slug, ids });
}
const [one, two, three] = tenants as [(typeof tenants)[number], (typeof tenants)[number], (typeof tenants)[number]];
const snapshot = async (tenantId: string) => ({
  files: await tenantQuery(ctx, tenantId, 'select * from files order by file_id'),
  documents: await tenantQuery(ctx, tenantId, 'select * from documents order by document_id'),
});
const live = Object.fromEntries(await Promise.all(tenants.map(async (x) => [x.tenantId, await snapshot(x.tenantId)] as const)));
const rebuild = (args: string[], env: Record<string, string> = {}) =>
  runNode(t, 'scripts/rebuild.ts', args, { ...ctx.env, LOG_LEVEL: 'info', ...env }, 120_000);
const lines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
const results = (output: string): Record<string, Record<string, any>> =>
  Object.fromEntries(
    lines(output)
      .filter((l) => /target result/.test(l.msg))
      .map((l) => [l.target, l]),
  );

t.test('a dry run compares without swapping, and names the rows that differ', async (t) => {
  const equal = await rebuild(['--tenant', 'rb-one', '--dry-run']);
  t.equal(equal.code, 0, { output: equal.output });
  t.equal(results(equal.output)[one.tenantId]?.result, 'equal');

  await tenantQuery(ctx, one.tenantId, `update documents set title = 'tampered' where document_id = $1`, [one.ids[2]]);
  const differs = await rebuild(['--tenant', one.tenantId, '--dry-run']);
  t.equal(differs.code, 3, 'exit 3: differences found', { output: differs.output });
  const found = results(differs.output)[one.tenantId];
  t.equal(found?.result, 'differs');
  t.match(found?.differences, [{ table: 'documents', changed: 1, missing: 0, extra: 0, examples: [{ key: `(${one.ids[2]})`, kind: 'changed' }] }]);
  t.equal(
    (await tenantQuery(ctx, one.tenantId, 'select title from documents where document_id = $1', [one.ids[2]]))[0]?.title,
    'tampered',
    'the dry run swapped nothing',
  );

  const fixed = await rebuild(['--tenant', 'rb-one']);
  t.equal(fixed.code, 0, { output: fixed.output });
  t.same(await snapshot(one.tenantId), live[one.tenantId], 'the real rebuild puts back what the log says');
});

t.test('--all-tenants killed after its first tenant resumes without redoing it', async (t) => {
  const killed = await rebuild(['--all-tenants', '--concurrency', '1'], { LEDGERLINE_FAILPOINTS: 'rebuild-after-tenant' });
  t.equal(killed.signal, 'SIGKILL', { output: killed.output });
  const [run] = await mainQuery(ctx, 'select run_id from rebuild_runs where finished_at is null');
  const doneBefore = await mainQuery(ctx, `select tenant_id, finished_at from rebuild_run_tenants where run_id = $1 and status = 'done'`, [run.run_id]);
  t.equal(doneBefore.length, 1, 'one tenant was finished before the kill');

  const resumed = await rebuild(['--all-tenants']);
  t.equal(resumed.code, 0, { output: resumed.output });
  t.ok(
    lines(resumed.output).some((l) => l.msg === 'resuming rebuild run' && l.runId === run.run_id && l.alreadyDone === 1 && l.toDo === 2),
    'it resumed the same run',
  );
  t.notOk(results(resumed.output)[doneBefore[0].tenant_id], 'the finished tenant was not rebuilt again');
  const doneAfter = await mainQuery(ctx, `select tenant_id, finished_at from rebuild_run_tenants where run_id = $1 and status = 'done' order by tenant_id`, [
    run.run_id,
  ]);
  t.equal(doneAfter.length, 3);
  t.same(
    doneAfter.find((r: any) => r.tenant_id === doneBefore[0].tenant_id),
    doneBefore[0],
    'its record is untouched',
  );
  t.ok((await mainQuery(ctx, 'select finished_at from rebuild_runs where run_id = $1', [run.run_id]))[0]?.finished_at, 'the run is finished');
  for (const x of tenants) t.same(await snapshot(x.tenantId), live[x.tenantId], `${x.slug} equals the live read model`);
});

t.test('a tenant that fails is reported, the others are rebuilt, and the next run retries only it', async (t) => {
  await tenantQuery(ctx, three.tenantId, 'alter table projection_checkpoints rename to projection_checkpoints_moved');
  const broken = await rebuild(['--all-tenants', '--fresh']);
  t.equal(broken.code, 1, { output: broken.output });
  const byTenant = results(broken.output);
  t.equal(byTenant[three.tenantId]?.result, 'failed');
  t.match(byTenant[three.tenantId]?.error, /projection_checkpoints/);
  t.equal(byTenant[one.tenantId]?.result, 'swapped');
  t.equal(byTenant[two.tenantId]?.result, 'swapped');
  await tenantQuery(ctx, three.tenantId, 'alter table projection_checkpoints_moved rename to projection_checkpoints');
  const retried = await rebuild(['--all-tenants']);
  t.equal(retried.code, 0, { output: retried.output });
  t.same(Object.keys(results(retried.output)), [three.tenantId], 'only the failed tenant was redone');
});

t.test('the audit trail and the main read models rebuild to what they were', async (t) => {
  const audit = async () => mainQuery(ctx, 'select * from audit_log order by global_position');
  const before = await audit();
  t.ok(before.length > 20);
  await mainQuery(ctx, 'delete from audit_log where global_position = $1', [before[3].global_position]);
  const dry = await rebuild(['--audit', '--dry-run']);
  t.equal(dry.code, 3, { output: dry.output });
  t.match(results(dry.output).audit?.differences, [{ table: 'audit_log', missing: 0, extra: 1 }]);
  const real = await rebuild(['--audit', '--main']);
  t.equal(real.code, 0, { output: real.output });
  t.same(await audit(), before, 'the removed entry is back');
});

t.test('no consumer group is left behind', async (t) => {
  const admin = new Kafka({ brokers: ctx.config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const left = await eventually(
    async () => {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${ctx.config.TOPIC_PREFIX}ledgerline.rebuild.`));
      return groups.length === 0 ? groups : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1000 },
  );
  t.same(left, []);
});
