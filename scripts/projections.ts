// Scopes the projectors have set aside, and retrying them after a fix:
//   npm run projections -- list                       every set-aside scope, its state and reason
//   npm run projections -- retry <scope|tenant slug> [--projection <name>] [--timeout-ms N]
// `retry` asks the projectors (through the main database's projection_set_aside table, which
// their sweep reads every second) to try the scope now, then waits until it caught up (exit 0)
// or failed again (exit 1, with the reason). Exit 2 on bad usage.
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { bootstrap } from '../core/adapters/process.ts';
import { createDatabasePool, rowSchema, sql } from '../core/adapters/db.ts';
import { printSummary } from '../core/adapters/operator-progress.ts';

const USAGE = 'usage: npm run projections -- list | retry <scope|tenant slug> [--projection <name>] [--timeout-ms N]\n';
let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { projection: { type: 'string' }, 'timeout-ms': { type: 'string', default: '30000' } } });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const [command, target] = parsed.positionals;
if (!(command === 'list' && !target) && !(command === 'retry' && target)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const { config, logger } = await bootstrap('projections');
const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 1 });
const Row = rowSchema(
  Type.Object({
    projection: Type.String(),
    scope: Type.String(),
    tenant: Type.Union([Type.String(), Type.Null()]),
    state: Type.String(),
    reason: Type.Union([Type.String(), Type.Null()]),
    failures: Type.Number(),
    since: Type.String(),
    retry_at: Type.Union([Type.String(), Type.Null()]),
    retry_requested_at: Type.Union([Type.String(), Type.Null()]),
    updated_at: Type.String(),
  }),
);
const rowsWhere = (where: ReturnType<typeof sql.fragment>) =>
  pool.any(sql.type(Row)`
  select s.projection, s.scope, t.slug as tenant, s.state, s.reason, s.failures, to_json(s.since)#>>'{}' as since,
         to_json(s.retry_at)#>>'{}' as retry_at, to_json(s.retry_requested_at)#>>'{}' as retry_requested_at, to_json(s.updated_at)#>>'{}' as updated_at
  from projection_set_aside s left join tenants t on t.tenant_id::text = s.scope
  where ${where} order by s.projection, s.scope`);

let exitCode = 0;
try {
  if (command === 'list') {
    const rows = await rowsWhere(sql.fragment`true`);
    printSummary(
      logger,
      'set-aside scope',
      rows.map((r) => ({ ...r })),
    );
    logger.info({ count: rows.length }, rows.length ? 'scopes set aside' : 'no scope is set aside');
  } else {
    const scope = String((await pool.maybeOneFirst(sql.unsafe`select tenant_id::text from tenants where slug = ${target ?? ''}`)) ?? target);
    const projection = parsed.values.projection === undefined ? sql.fragment`true` : sql.fragment`projection = ${parsed.values.projection}`;
    const asked = await pool.anyFirst(sql.unsafe`
      update projection_set_aside set retry_requested_at = clock_timestamp() where scope = ${scope} and ${projection}
      returning to_json(retry_requested_at)#>>'{}'`);
    if (asked.length === 0) {
      // Caught up already (the projector's own back-off retry may get there first) or not a scope at all.
      const known =
        ['main', 'audit', 'file-janitor'].includes(scope) ||
        (await pool.maybeOneFirst(sql.unsafe`select 1 from tenants where tenant_id::text = ${scope}`)) !== null;
      if (known) logger.info({ scope }, 'scope is not set aside: nothing to retry');
      else logger.error({ scope: target }, 'no such scope (see `npm run projections -- list`)');
      exitCode = known ? 0 : 1;
    } else {
      logger.info({ scope }, 'retry requested');
      exitCode = await waitForOutcome(scope, projection, String(asked[0]), Number(parsed.values['timeout-ms']));
    }
  }
} finally {
  await pool.end();
}
process.exit(exitCode);

/** 0 once the scope is no longer set aside; 1 if it failed again (or is still waiting) by the deadline. */
async function waitForOutcome(scope: string, projection: ReturnType<typeof sql.fragment>, requestedAt: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const rows = await rowsWhere(sql.fragment`s.scope = ${scope} and ${projection}`);
    if (rows.length === 0) {
      logger.info({ scope }, 'scope caught up');
      return 0;
    }
    const failedAgain = rows.filter((r) => r.retry_requested_at === null && r.state === 'failed' && Date.parse(r.updated_at) > Date.parse(requestedAt));
    if (failedAgain.length > 0) {
      logger.error({ scope, rows: failedAgain }, 'scope failed again');
      return 1;
    }
    if (Date.now() > deadline) {
      logger.error({ scope, rows }, 'scope still set aside after the retry');
      return 1;
    }
  }
}
