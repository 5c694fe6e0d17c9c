// Verifies the hash chain of the audit trail, and compares it with the event store:
//   npm run audit:verify -- --tenant <id|slug>     a tenant's chain
//   npm run audit:verify -- --user <id>            a user's own chain (logins, password, profile)
//   npm run audit:verify -- --anonymous            failed logins for unknown emails
// Prints one JSON report on stdout; exit 0 when intact, 1 when an entry was edited, removed,
// reordered or inserted, 2 on bad usage or an unknown tenant.
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { bootstrap } from '../core/adapters/process.ts';
import { createDatabasePool, rowSchema, sql } from '../core/adapters/db.ts';
import { verifyAuditChain } from '../projectors/main/audit-verify.ts';
import { ANONYMOUS_CHAIN } from '../projectors/main/audit-trail.ts';

const { values } = parseArgs({ options: { tenant: { type: 'string' }, user: { type: 'string' }, anonymous: { type: 'boolean' } } });
const chosen = [values.tenant, values.user, values.anonymous].filter((v) => v !== undefined).length;
if (chosen !== 1) {
  process.stderr.write('usage: npm run audit:verify -- --tenant <id|slug> | --user <id> | --anonymous\n');
  process.exit(2);
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Quiet unless asked: stdout carries the report.
const { config } = await bootstrap('audit-verify', { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 2 });
let exitCode = 2;
try {
  let chain: string | null = values.anonymous ? ANONYMOUS_CHAIN : null;
  if (values.user !== undefined) chain = UUID.test(values.user) ? `user:${values.user.toLowerCase()}` : null;
  if (values.tenant !== undefined) {
    // Deleted tenants too: their trail outlives them.
    chain = await pool.maybeOneFirst(sql.type(rowSchema(Type.Object({ tenant_id: Type.String() })))`
      select tenant_id from tenants where tenant_id::text = ${values.tenant.toLowerCase()} or slug = ${values.tenant}`);
  }
  if (chain === null) {
    process.stderr.write(`no such ${values.tenant !== undefined ? 'tenant' : 'user'}: ${values.tenant ?? values.user}\n`);
  } else {
    const report = await verifyAuditChain(pool, chain);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    exitCode = report.ok ? 0 : 1;
  }
} finally {
  await pool.end();
}
process.exit(exitCode);
