// `npm run migrate:tenants` run as an operator would (a child process): a new tenant-schema file
// reaches existing tenants that hold data, in parallel, each under its database's lock; one
// tenant failing does not stop the others; a changed applied file is refused.
import t from 'tap';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startDocumentSystem, tenantWith, uploadOk, tenantDatabase, tenantQuery } from './support/document-helpers.ts';
import { runNode } from './support/identity-helpers.ts';
import { withDatabase } from '../core/adapters/db.ts';
import { tenantMigrations } from '../core/adapters/migrate.ts';

const s = await startDocumentSystem(t);
const { ctx } = s;
const dir = await mkdtemp(join(tmpdir(), 'll-tenant-migrations-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await cp(tenantMigrations(), dir, { recursive: true });

const alpha = await tenantWith(s, 'mig-alpha');
const beta = await tenantWith(s, 'mig-beta');
await uploadOk(s, alpha.admin.token, alpha.tenantId, { data: Buffer.from('alpha content'), filename: 'a.txt', fields: { title: 'Short title' } });
await uploadOk(s, beta.admin.token, beta.tenantId, {
  data: Buffer.from('beta content'),
  filename: 'b.txt',
  fields: { title: 'A title far too long for the new forty character rule' },
});
const betaDoc = await uploadOk(s, beta.admin.token, beta.tenantId, { data: Buffer.from('beta content two'), filename: 'b2.txt', fields: { title: 'Fine' } });
const MIGRATION_2 = `alter table documents add column summary text;
update documents set summary = 'about ' || title;
alter table documents add constraint documents_title_short check (length(title) <= 40);\n`;

const migrateTenants = (args: string[]) => runNode(t, 'scripts/migrate-tenants.ts', ['--dir', dir, ...args], { ...ctx.env, LOG_LEVEL: 'info' }, 90_000);
const lines = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
const resultsOf = (output: string): Record<string, Record<string, any>> =>
  Object.fromEntries(
    lines(output)
      .filter((l) => /tenant result/.test(l.msg))
      .map((l) => [l.tenant, l]),
  );
const hasSummary = async (tenantId: string) =>
  (await tenantQuery(ctx, tenantId, `select 1 from information_schema.columns where table_name = 'documents' and column_name = 'summary'`)).length === 1;

t.test('status and dry run show the new file without changing any tenant; the dry run finds the tenant it would fail on', async (t) => {
  await writeFile(join(dir, '002_document_summary.sql'), MIGRATION_2);
  const status = await migrateTenants(['--status']);
  t.equal(status.code, 0, 'status exits 0', { output: status.output });
  const byTenant = resultsOf(status.output);
  t.same(byTenant['mig-alpha']?.pending, ['002_document_summary.sql']);
  t.same(byTenant['mig-beta']?.pending, ['002_document_summary.sql']);

  const dry = await migrateTenants(['--dry-run']);
  t.equal(dry.code, 1, 'the dry run exits 1: one tenant would fail', { output: dry.output });
  const dryResults = resultsOf(dry.output);
  t.equal(dryResults['mig-alpha']?.result, 'would apply');
  t.equal(dryResults['mig-beta']?.result, 'failed');
  t.match(dryResults['mig-beta']?.error, /002_document_summary\.sql failed: .*documents_title_short/);
  t.notOk(await hasSummary(alpha.tenantId), 'nothing was kept in alpha');
  t.notOk(await hasSummary(beta.tenantId), 'nor in beta');
});

t.test('the run migrates the tenant it can, reports the one it cannot, and exits 1', async (t) => {
  const run = await migrateTenants([]);
  t.equal(run.code, 1, { output: run.output });
  const results = resultsOf(run.output);
  t.equal(results['mig-alpha']?.result, 'migrated');
  t.same(results['mig-alpha']?.applied, ['002_document_summary.sql']);
  t.equal(results['mig-beta']?.result, 'failed');
  t.ok(
    lines(run.output).some((l) => l.msg === 'migrate:tenants finished with failures' && l.failed === 1 && l.succeeded === 1),
    'the summary counts both',
  );
  t.same(await tenantQuery(ctx, alpha.tenantId, 'select summary from documents'), [{ summary: 'about Short title' }], "alpha's existing rows were backfilled");
  const recorded = await tenantQuery(ctx, alpha.tenantId, `select checksum from schema_migrations where name = '002_document_summary.sql'`);
  t.equal(recorded[0]?.checksum, createHash('sha256').update(MIGRATION_2).digest('hex'), "with the file's checksum");
  t.notOk(await hasSummary(beta.tenantId), 'beta is untouched (its transaction rolled back)');

  // The operator fixes beta's data, then migrates that one tenant.
  await tenantQuery(ctx, beta.tenantId, `update documents set title = 'Shortened' where document_id <> $1`, [betaDoc.id]);
  const fixed = await migrateTenants(['--tenant', 'mig-beta']);
  t.equal(fixed.code, 0, { output: fixed.output });
  t.equal(resultsOf(fixed.output)['mig-beta']?.result, 'migrated');
  t.notOk(resultsOf(fixed.output)['mig-alpha'], 'only the named tenant was touched');
  const again = await migrateTenants([]);
  t.equal(again.code, 0, { output: again.output });
  t.same(
    Object.values(resultsOf(again.output)).map((r) => r.result),
    ['up to date', 'up to date'],
  );

  const history = await migrateTenants(['--history', '--tenant', alpha.tenantId]);
  t.equal(history.code, 0);
  t.same(
    resultsOf(history.output)['mig-alpha']?.history.map((h: { name: string }) => h.name),
    ['001_documents.sql', '002_document_summary.sql'],
  );
});

t.test('a tenant another runner is migrating is reported, the others go on', async (t) => {
  await writeFile(join(dir, '003_document_index.sql'), 'create index documents_by_summary on documents (summary);\n');
  const holder = new pg.Client({ connectionString: withDatabase(ctx.config.DATABASE_URL, await tenantDatabase(ctx, alpha.tenantId)) });
  await holder.connect();
  await holder.query(`select pg_advisory_lock(hashtext('ledgerline.migrations'))`);
  const blocked = await migrateTenants(['--lock-wait-ms', '300']);
  await holder.end();
  t.equal(blocked.code, 1, { output: blocked.output });
  const results = resultsOf(blocked.output);
  t.match(results['mig-alpha']?.error, /another runner holds this database's migration lock/);
  t.equal(results['mig-beta']?.result, 'migrated');
  const after = await migrateTenants([]);
  t.equal(after.code, 0, { output: after.output });
  t.same(resultsOf(after.output)['mig-alpha']?.applied, ['003_document_index.sql']);
});

t.test('an applied file that changed is refused loudly and nothing runs', async (t) => {
  await writeFile(join(dir, '002_document_summary.sql'), `${MIGRATION_2}-- edited after it was applied\n`);
  await writeFile(join(dir, '004_more.sql'), 'alter table documents add column never_added text;\n');
  const run = await migrateTenants([]);
  t.equal(run.code, 1, { output: run.output });
  for (const tenant of ['mig-alpha', 'mig-beta']) {
    t.match(resultsOf(run.output)[tenant]?.error, /applied migration changed since applied .*002_document_summary\.sql recorded sha256/);
  }
  const column = await tenantQuery(ctx, alpha.tenantId, `select 1 from information_schema.columns where column_name = 'never_added'`);
  t.equal(column.length, 0, 'the later file did not run');
});
