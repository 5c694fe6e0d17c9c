// Commands: 50 clients, each changing its own document's title, against 50 clients running
// one-row INSERT transactions on the same PostgreSQL; and, under that load, how long a change
// takes to show in the query API without X-Min-Position (freshness).
import pg from 'pg';
import { call, percentile, tenantFor, type Stack } from './stack.ts';
import { closedLoop } from './load.ts';
import { uploadSmall } from './documents.ts';
import type { BenchResult } from './result.ts';
import { measureCpu } from './cpu.ts';
import { measureStatements } from './pg-statements.ts';

const CLIENTS = 50;

export async function benchCommands(stack: Stack, seconds: number): Promise<BenchResult[]> {
  const { token, tenantId } = await tenantFor(stack, 'bench-commands');
  const documents: string[] = [];
  for (let i = 0; i < CLIENTS + 1; i++) documents.push((await uploadSmall(stack, token, tenantId, `doc-${i}`)).id);
  const probeDocument = documents.pop()!;
  // Each client changes its own document's title to a new one every time: every command appends.
  const titleChanges = (prefix: string) => (client: number, n: number) => ({
    method: 'PUT',
    path: `/api/tenants/${tenantId}/documents/${documents[client]}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: `${prefix} ${client}-${n}` }),
  });
  // A few seconds of the same load first: the processes (and the Kafka broker's JIT) reach their
  // steady state before anything is measured, as the reads scenario warms its baseline up.
  // The read side then catches up before the baseline runs, so that the baseline has the cores.
  await closedLoop({ url: stack.commandUrl, clients: CLIENTS, seconds: 3, next: titleChanges('warm-up') });
  await settled(stack.pids);

  const baseline = await insertTransactions(stack.config.DATABASE_URL, seconds);

  let stopProbe = false;
  const freshness: number[] = [];
  const sinceRequest: number[] = [];
  let polls = 0;
  const probe = (async () => {
    for (let n = 0; !stopProbe; n++) {
      const title = `probe-${n}`;
      const requested = performance.now();
      await call(`${stack.commandUrl}/api/tenants/${tenantId}/documents/${probeDocument}`, 'PUT', { token, body: { title }, expect: 200 });
      // Freshness is measured from the answer: the change is committed then, and how long the
      // command itself took is the commands scenario's latency (both are reported).
      const started = performance.now();
      for (;;) {
        const seen = await call(`${stack.queryUrl}/api/tenants/${tenantId}/documents/${probeDocument}`, 'GET', { token, expect: 200 });
        polls += 1;
        if (seen.title === title) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      freshness.push(performance.now() - started);
      sinceRequest.push(performance.now() - requested);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const updatesOf = async () => {
    const client = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query("select count(*)::int as n from events where type = 'DocumentUpdated' and stream_id = any($1)", [
        documents.map((id) => `document-${id}`),
      ]);
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  };
  const updatesBefore = await updatesOf();
  const statements = await measureStatements(stack.config.DATABASE_URL);
  const cpu = measureCpu(stack.pids);
  const load = await closedLoop({
    url: stack.commandUrl,
    clients: CLIENTS,
    seconds,
    next: titleChanges('title'),
  });
  const cpuShares = cpu.stop();
  const topStatements = await statements.stop();
  stopProbe = true;
  await probe;
  // Every answered command is one DocumentUpdated on the log: the figure counts real appends
  // (up to one request per client may still have been on its way when the load stopped).
  const appended = (await updatesOf()) - updatesBefore;
  expectAppended('commands', load, appended);

  // Where the gap to the goal is: the same load with the read side (projector processes)
  // paused, so the write path (command API, PostgreSQL, the relay to Kafka) has the two cores to
  // itself, as it would with the projectors on other machines. Paused for less than the Kafka
  // session timeout (10 s): no rebalance; they catch up when resumed.
  const readSide = Object.entries(stack.pids)
    .filter(([name]) => name.startsWith('projector-') || name === 'provisioner')
    .map(([, pid]) => pid);
  const writeUpdatesBefore = await updatesOf();
  const writeCpu = measureCpu(stack.pids);
  for (const pid of readSide) process.kill(pid, 'SIGSTOP');
  let writeOnly: Awaited<ReturnType<typeof closedLoop>>;
  try {
    writeOnly = await closedLoop({
      url: stack.commandUrl,
      clients: CLIENTS,
      seconds: Math.min(seconds, 7),
      next: titleChanges('write-only'),
    });
  } finally {
    for (const pid of readSide) process.kill(pid, 'SIGCONT');
  }
  const writeCpuShares = writeCpu.stop();
  const writeAppended = (await updatesOf()) - writeUpdatesBefore;
  expectAppended('commands (write path)', writeOnly, writeAppended);
  return [
    {
      name: 'commands',
      what: `PUT …/documents/{id} (title), ${CLIENTS} clients each on its own document`,
      value: load.rps,
      unit: 'commands/s',
      baseline: { what: `one-row INSERT transactions, ${CLIENTS} clients (pg)`, value: baseline, unit: 'tx/s' },
      ratio: load.rps / baseline,
      goal: '≥ 0.4, p99 < 150 ms',
      details: { p50Ms: load.p50, p99Ms: load.p99, errors: load.errors, non2xx: load.non2xx, total: load.total, eventsAppended: appended },
      cpu: cpuShares,
      statements: topStatements,
    },
    {
      name: 'commands-write-path',
      what: 'the same load with the projector processes paused (the write path alone on the two cores)',
      value: writeOnly.rps,
      unit: 'commands/s',
      baseline: { what: `one-row INSERT transactions, ${CLIENTS} clients (pg)`, value: baseline, unit: 'tx/s' },
      ratio: writeOnly.rps / baseline,
      goal: '– (shows where the gap is)',
      details: {
        p50Ms: writeOnly.p50,
        p99Ms: writeOnly.p99,
        errors: writeOnly.errors,
        non2xx: writeOnly.non2xx,
        total: writeOnly.total,
        eventsAppended: writeAppended,
      },
      cpu: writeCpuShares,
    },
    {
      name: 'freshness',
      what: 'command answered → query API shows it, no X-Min-Position, under the command load',
      value: percentile(freshness, 99),
      unit: 'ms (p99)',
      goal: 'p99 < 250 ms',
      details: {
        p50Ms: percentile(freshness, 50),
        p99Ms: percentile(freshness, 99),
        probes: freshness.length,
        polls,
        fromRequestP50Ms: percentile(sinceRequest, 50),
        fromRequestP99Ms: percentile(sinceRequest, 99),
      },
    },
  ];
}

/** Waits (at most 20 s) until the machine is idle again: under 0.2 cores busy over half a second. */
async function settled(pids: Record<string, number>): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    const cpu = measureCpu(pids);
    await new Promise((resolve) => setTimeout(resolve, 500));
    if ((cpu.stop().coresBusy ?? 0) < 0.2) return;
  }
}

/** Every answered command is one DocumentUpdated on the log (up to one per client may still have been on its way when the load stopped). */
function expectAppended(what: string, load: { total: number; non2xx: number; errors: number }, appended: number): void {
  const answered = load.total - load.non2xx - load.errors;
  if (appended < answered || appended > answered + CLIENTS)
    throw new Error(`${what}: ${answered} answered 2xx but ${appended} DocumentUpdated events appended`);
}

/** The baseline: the same number of clients, each running BEGIN; INSERT one row; COMMIT. */
async function insertTransactions(databaseUrl: string, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CLIENTS });
  await pool.query('create table if not exists bench_inserts (id bigserial primary key, stream_id text not null, data jsonb not null)');
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const connection = await pool.connect();
      try {
        while (performance.now() < deadline) {
          await connection.query('begin');
          await connection.query('insert into bench_inserts (stream_id, data) values ($1, $2)', [`s-${client}`, { title: `title ${done}` }]);
          await connection.query('commit');
          done += 1;
        }
      } finally {
        connection.release();
      }
    }),
  );
  await pool.query('drop table bench_inserts');
  await pool.end();
  return done / seconds;
}
