// npm run test:load — many tenants, mixed traffic at a fixed arrival rate (open loop: requests
// start on schedule whether or not earlier ones finished), on a stack of its own. Reports the
// error rate, latencies, the PostgreSQL connections seen against their stated bound, how long
// the projections take to catch up afterwards, and whether the events match the accepted commands.
//   LOAD_TENANTS (100) LOAD_RATE per second (20) LOAD_SECONDS (60)
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from '../../core/adapters/db.ts';
import { startSystemProcesses } from './processes.ts';
import { pdf, request, seedTenants, waitUntilProjected, type Answer } from './client.ts';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TENANTS = size('LOAD_TENANTS', 100),
  RATE = size('LOAD_RATE', 20),
  SECONDS = size('LOAD_SECONDS', 60);
const log = (line: string) => process.stdout.write(`[load ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

// Pools per process, kept small and stated: the bound below is what they can open at most.
const POOLS = { DATABASE_POOL_SIZE: 8, TENANT_POOL_SIZE: 2, TENANT_POOLS_MAX: 25 };
const PROCESSES = 5;
// Each process: its main pool + 2 (relay lock / LISTEN, migrations at start); the query API and the
// tenant projector: tenant pools too; the provisioner: one connection while it creates a database.
const CONNECTION_BOUND = PROCESSES * (POOLS.DATABASE_POOL_SIZE + 2) + 2 * POOLS.TENANT_POOLS_MAX * POOLS.TENANT_POOL_SIZE + 1;

const system = await startSystemProcesses(Object.fromEntries(Object.entries(POOLS).map(([k, v]) => [k, String(v)])), log);
const db = async (database: string | undefined, text: string, values: unknown[] = []) => {
  const client = new pg.Client({ connectionString: database ? withDatabase(system.env.DATABASE_URL!, database) : system.env.DATABASE_URL! });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
};
try {
  const run = randomUUID().slice(0, 6);
  log(`seeding ${TENANTS} tenants`);
  const seedStarted = Date.now();
  const tenants = await seedTenants({ command: system.commandUrl, query: system.queryUrl }, TENANTS, run, 8);
  log(`seeded in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s`);
  await waitUntilProjected(
    (text) => db(undefined, text),
    (d, text) => db(d, text),
    120_000,
  );
  const [{ before, head }] = await db(undefined, 'select count(*)::int as before, coalesce(max(global_position), 0)::int as head from events');

  type Result = { kind: string; command: boolean; answer: Answer };
  const results: Result[] = [];
  const roles = new Map(tenants.map((t) => [t.tenantId, 'user']));
  let peakConnections = 0;
  const sampler = setInterval(() => {
    void db(undefined, `select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'`).then(
      ([row]) => {
        peakConnections = Math.max(peakConnections, row.n - 1);
      },
      () => {},
    );
  }, 500);

  async function one(i: number): Promise<void> {
    const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
    const path = `/api/tenants/${tenant.tenantId}`;
    const doc = tenant.documents[Math.floor(Math.random() * tenant.documents.length)]!;
    const dice = Math.random();
    let result: Result;
    if (dice < 0.2) {
      const answer = await request(system.commandUrl, 'POST', `${path}/documents`, {
        token: tenant.admin.token,
        file: { name: `l${i}.pdf`, data: pdf(`load ${run} ${i}`), title: `Load ${i}` },
      });
      if (answer.status === 201) tenant.documents.push(answer.body.id);
      result = { kind: 'upload', command: true, answer };
    } else if (dice < 0.35) {
      result = {
        kind: 'update',
        command: true,
        answer: await request(system.commandUrl, 'PUT', `${path}/documents/${doc}`, { token: tenant.admin.token, json: { title: `Updated ${i}` } }),
      };
    } else if (dice < 0.65) {
      result = { kind: 'list', command: false, answer: await request(system.queryUrl, 'GET', `${path}/documents?limit=20`, { token: tenant.member.token }) };
    } else if (dice < 0.85) {
      result = {
        kind: 'download',
        command: false,
        answer: await request(system.queryUrl, 'GET', `${path}/documents/${tenant.documents[0]}/download`, { token: tenant.member.token }),
      };
    } else {
      const role = roles.get(tenant.tenantId) === 'user' ? 'viewer' : 'user';
      roles.set(tenant.tenantId, role);
      result = {
        kind: 'member',
        command: true,
        answer: await request(system.commandUrl, 'PUT', `${path}/users/${tenant.member.userId}`, { token: tenant.admin.token, json: { role } }),
      };
    }
    results.push(result);
  }

  log(`${RATE} requests/s for ${SECONDS} s over ${TENANTS} tenants`);
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one(i));
  }
  const scheduleSlipMs = performance.now() - (started + (RATE * SECONDS * 1000) / RATE);
  await Promise.all(inFlight);
  const endedAt = Date.now();
  const lagMs = await waitUntilProjected(
    (text) => db(undefined, text),
    (d, text) => db(d, text),
    120_000,
  );
  clearInterval(sampler);

  const errors = results.filter((r) => r.answer.status === 0 || r.answer.status >= 500 || (r.answer.status >= 400 && r.answer.status !== 409));
  const byKind = Object.fromEntries(
    ['upload', 'update', 'list', 'download', 'member'].map((kind) => {
      const of = results
        .filter((r) => r.kind === kind)
        .map((r) => r.answer.ms)
        .sort((a, b) => a - b);
      const pct = (p: number) => Math.round(of[Math.min(of.length - 1, Math.floor(of.length * p))] ?? 0);
      return [kind, { n: of.length, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) }];
    }),
  );
  log(`latency ms by kind: ${JSON.stringify(byKind)}`);
  log(`schedule slip at the end: ${Math.round(scheduleSlipMs)} ms; all answered ${Math.round(endedAt - performance.timeOrigin - started)} ms after the start`);
  check(
    errors.length / results.length < 0.001,
    `error rate ${((100 * errors.length) / results.length).toFixed(3)} % < 0.1 % (${errors.length} of ${results.length}${
      errors.length
        ? `: ${errors
            .slice(0, 3)
            .map((e) => `${e.kind} ${e.answer.status} ${e.answer.error ?? JSON.stringify(e.answer.body)}`)
            .join(' ; ')}`
        : ''
    })`,
  );
  check(lagMs <= 5000, `projection lag back to zero ${(lagMs / 1000).toFixed(1)} s after the last answer (bound 5 s)`);
  check(peakConnections <= CONNECTION_BOUND, `peak PostgreSQL client connections ${peakConnections} <= stated bound ${CONNECTION_BOUND}`);
  // Position 0: accepted but nothing to change (two role changes of one member arriving out of order).
  const acceptedAll = results.filter((r) => r.command && r.answer.status >= 200 && r.answer.status < 300);
  const accepted = acceptedAll.filter((r) => r.answer.body.position > 0);
  log(`${acceptedAll.length} commands accepted, ${acceptedAll.length - accepted.length} of them changed nothing`);
  const expectedEvents = accepted.reduce((sum, r) => sum + (r.kind === 'upload' ? (r.answer.body.deduplicated ? 2 : 3) : 1), 0);
  const [{ after }] = await db(undefined, 'select count(*)::int as after from events');
  const [{ commands }] = await db(undefined, 'select count(distinct correlation_id)::int as commands from events where global_position > $1', [head]);
  check(
    after - before === expectedEvents,
    `events appended ${after - before} == events of the accepted commands ${expectedEvents} (uploads 3, or 2 when deduplicated; others 1)`,
  );
  check(commands === accepted.length, `commands in the store (distinct correlation ids) ${commands} == accepted commands ${accepted.length}`);
} catch (err) {
  failures.push(`load aborted: ${(err as Error).stack}`);
  log(failures.at(-1)!);
} finally {
  await system.stop();
}
log(failures.length === 0 ? 'LOAD PASSED' : `LOAD FAILED: ${failures.length} finding(s)`);
process.exit(failures.length === 0 ? 0 : 1);
