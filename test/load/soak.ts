// npm run test:soak — mixed commands from concurrent clients over many tenants while the
// projectors are SIGKILLed at random moments, Kafka is stopped for a while and PostgreSQL is
// restarted, all on a stack of its own. Then: every read model equals a fresh replay, every
// acknowledged command is in the store exactly once, no 5xx but 503-with-a-code while
// PostgreSQL was down, and the APIs came back by themselves. Sized by the environment:
//   SOAK_COMMANDS (5000) SOAK_TENANTS (20) SOAK_CLIENTS (12) SOAK_KILLS (20) SOAK_KAFKA_OUTAGE_S (20) SOAK_PG_RESTARTS (1)
// `SOAK_COMMANDS=400 SOAK_TENANTS=4 SOAK_KILLS=4 SOAK_KAFKA_OUTAGE_S=5 npm run test:soak` is the short version.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from '../../core/adapters/db.ts';
import { startSystemProcesses, PROJECTORS } from './processes.ts';
import { commandWithRetry, pdf, request, seedTenants, waitUntilProjected, type Answer } from './client.ts';
import { compareWithFreshReplay } from './replay-check.ts';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const COMMANDS = size('SOAK_COMMANDS', 5000),
  TENANTS = size('SOAK_TENANTS', 20),
  CLIENTS = size('SOAK_CLIENTS', 12);
const KILLS = size('SOAK_KILLS', 20),
  KAFKA_OUTAGE_S = size('SOAK_KAFKA_OUTAGE_S', 20),
  PG_RESTARTS = size('SOAK_PG_RESTARTS', 1);
const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const system = await startSystemProcesses({}, log);
const run = randomUUID().slice(0, 6);
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
  log(`seeding ${TENANTS} tenants`);
  const tenants = await seedTenants({ command: system.commandUrl, query: system.queryUrl }, TENANTS, run);

  // ------------------------------------------------------------ faults, fired by progress
  let sent = 0;
  let pgDown: { from: number; to: number } | undefined;
  const pgWindows: { from: number; to: number }[] = [];
  const chaosLog: string[] = [];
  async function chaos(): Promise<void> {
    const kills = Array.from({ length: KILLS }, () => Math.random() * 0.9).sort();
    const kafkaAt = 0.3,
      pgAt = Array.from({ length: PG_RESTARTS }, (_, i) => 0.55 + (i * 0.3) / Math.max(1, PG_RESTARTS));
    let kafkaDone = KAFKA_OUTAGE_S <= 0;
    const kafkaOutage = async () => {
      chaosLog.push(`kafka stop at ${sent}`);
      await system.stack.stop('kafka');
      await new Promise((r) => setTimeout(r, KAFKA_OUTAGE_S * 1000));
      await system.stack.start('kafka');
      chaosLog.push(`kafka back at ${sent}`);
    };
    let kafka: Promise<void> | undefined;
    while (sent < COMMANDS && (kills.length > 0 || pgAt.length > 0 || !kafkaDone)) {
      const progress = sent / COMMANDS;
      if (kills.length > 0 && progress >= kills[0]!) {
        kills.shift();
        const victim = PROJECTORS[Math.floor(Math.random() * PROJECTORS.length)]!;
        system.kill(victim);
        chaosLog.push(`SIGKILL ${victim} at ${sent}`);
      }
      if (!kafkaDone && progress >= kafkaAt) {
        kafkaDone = true;
        kafka = kafkaOutage();
      }
      if (pgAt.length > 0 && progress >= pgAt[0]!) {
        pgAt.shift();
        pgDown = { from: Date.now(), to: Infinity };
        chaosLog.push(`postgres stop at ${sent}`);
        await system.stack.stop('pg');
        await system.stack.start('pg');
        pgDown.to = Date.now();
        pgWindows.push(pgDown);
        chaosLog.push(`postgres back at ${sent}`);
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
    await kafka;
  }

  // ------------------------------------------------------------ clients
  type Outcome = { op: string; tenantId: string; target?: string; answer: Answer };
  const outcomes: Outcome[] = [];
  const bad: string[] = [];
  const live = new Map(tenants.map((t) => [t.tenantId, [...t.documents]]));
  const roles = new Map(tenants.map((t) => [t.tenantId, 'user']));
  const onAttempt = (answer: Answer, what: string) => {
    if (answer.status < 500) return;
    // While PostgreSQL is down (and for a short grace after) a 503 with a code is the promise.
    const during = pgWindows.concat(pgDown ? [pgDown] : []).some((w) => Date.now() >= w.from - 1000 && Date.now() <= w.to + 15_000);
    if (!(answer.status === 503 && answer.body?.error?.code && during)) bad.push(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  async function client(): Promise<void> {
    while (sent < COMMANDS) {
      const n = ++sent;
      const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
      const docs = live.get(tenant.tenantId)!;
      const dice = Math.random();
      const base = system.commandUrl;
      const tenantPath = `/api/tenants/${tenant.tenantId}`;
      let outcome: Outcome;
      if (dice < 0.45 || docs.length === 0) {
        const answer = await commandWithRetry(
          base,
          'POST',
          `${tenantPath}/documents`,
          { token: tenant.admin.token, file: { name: `d${sent}.pdf`, data: pdf(`soak ${run} ${sent % 700}`), title: `Doc ${sent}` } },
          (a) => onAttempt(a, 'upload'),
        );
        if (answer.status === 201) docs.push(answer.body.id);
        outcome = { op: 'upload', tenantId: tenant.tenantId, target: answer.body?.id, answer };
      } else if (dice < 0.7) {
        const target = docs[Math.floor(Math.random() * docs.length)]!;
        const answer = await commandWithRetry(
          base,
          'PUT',
          `${tenantPath}/documents/${target}`,
          { token: tenant.admin.token, json: { title: `Title ${sent}`, tags: [`t${sent % 5}`] } },
          (a) => onAttempt(a, 'update'),
        );
        outcome = { op: 'update', tenantId: tenant.tenantId, target, answer };
      } else if (dice < 0.8) {
        const target = docs.splice(Math.floor(Math.random() * docs.length), 1)[0]!;
        const answer = await commandWithRetry(base, 'DELETE', `${tenantPath}/documents/${target}`, { token: tenant.admin.token }, (a) =>
          onAttempt(a, 'delete'),
        );
        outcome = { op: 'delete', tenantId: tenant.tenantId, target, answer };
      } else if (dice < 0.92) {
        const role = roles.get(tenant.tenantId) === 'user' ? 'viewer' : 'user';
        const answer = await commandWithRetry(base, 'PUT', `${tenantPath}/users/${tenant.member.userId}`, { token: tenant.admin.token, json: { role } }, (a) =>
          onAttempt(a, 'member role'),
        );
        if (answer.status === 200) roles.set(tenant.tenantId, role);
        outcome = { op: 'role', tenantId: tenant.tenantId, target: tenant.member.userId, answer };
      } else {
        const answer = await commandWithRetry(base, 'PUT', tenantPath, { token: tenant.admin.token, json: { name: `Tenant ${sent}` } }, (a) =>
          onAttempt(a, 'rename'),
        );
        outcome = { op: 'rename', tenantId: tenant.tenantId, answer };
      }
      outcomes.push(outcome);
      // A read beside each command: the query API must keep answering (no 5xx but the coded 503).
      onAttempt(await request(system.queryUrl, 'GET', `${tenantPath}/documents?limit=5`, { token: tenant.admin.token }), 'list');
      if (n % 500 === 0) log(`${n}/${COMMANDS} commands sent`);
    }
  }
  log(`${COMMANDS} commands from ${CLIENTS} clients, ${KILLS} projector kills, Kafka down ${KAFKA_OUTAGE_S} s, ${PG_RESTARTS} PostgreSQL restart(s)`);
  const started = Date.now();
  await Promise.all([chaos(), ...Array.from({ length: CLIENTS }, client)]);
  log(`commands done in ${((Date.now() - started) / 1000).toFixed(0)} s; faults: ${chaosLog.join(', ')}`);

  // ------------------------------------------------------------ verdict
  const lagMs = await waitUntilProjected(
    (text) => db(undefined, text),
    (database, text) => db(database, text),
    180_000,
  );
  log(`every projection caught up ${(lagMs / 1000).toFixed(1)} s after the last command`);
  const acknowledged = outcomes.filter((o) => o.answer.status >= 200 && o.answer.status < 300);
  const unanswered = outcomes.filter((o) => o.answer.status === 0 || o.answer.status >= 500);
  // A document deleted by one client while another updates or deletes it answers 404/409: expected.
  const deletedTargets = new Set(outcomes.filter((o) => o.op === 'delete').map((o) => o.target));
  const refused = outcomes.filter(
    (o) => o.answer.status >= 400 && o.answer.status < 500 && !(deletedTargets.has(o.target) && [404, 409].includes(o.answer.status)),
  );
  log(`${acknowledged.length} acknowledged, ${refused.length} refused (4xx), ${unanswered.length} never answered`);
  check(
    bad.length === 0,
    `no 5xx except 503 with a code while PostgreSQL was down (${bad.length} others${bad.length ? `: ${bad.slice(0, 5).join(' ; ')}` : ''})`,
  );
  check(unanswered.length === 0, 'every command got an answer in the end (clients retry 503 with the same Idempotency-Key)');
  check(
    refused.length === 0,
    `no command was refused (${refused
      .slice(0, 3)
      .map((o) => `${o.op} ${o.answer.status} ${JSON.stringify(o.answer.body)}`)
      .join(' ; ')})`,
  );
  // Position 0: the command changed nothing (e.g. two clients set the same role at once).
  const positions = acknowledged.map((o) => o.answer.body.position as number).filter((p) => p > 0);
  const found = new Set((await db(undefined, 'select global_position::int as p from events where global_position = any($1)', [positions])).map((r) => r.p));
  const lost = acknowledged.filter((o) => o.answer.body.position > 0 && !found.has(o.answer.body.position));
  check(
    lost.length === 0,
    `every acknowledged command's position is in the store (${found.size}/${new Set(positions).size}${
      lost.length
        ? `; missing: ${lost
            .slice(0, 3)
            .map((o) => `${o.op} ${JSON.stringify(o.answer.body)}`)
            .join(' ; ')}`
        : ''
    })`,
  );
  const created = await db(undefined, `select data->>'documentId' as id, count(*)::int as n from events where type = 'DocumentCreated' group by 1`);
  const createdCount = new Map(created.map((r) => [r.id, r.n]));
  const uploads = acknowledged.filter((o) => o.op === 'upload');
  check(
    uploads.every((o) => createdCount.get(o.target!) === 1),
    `each acknowledged upload created exactly one document (${uploads.length})`,
  );
  const updates = new Map<string, number>();
  for (const o of acknowledged.filter((x) => x.op === 'update')) updates.set(o.target!, (updates.get(o.target!) ?? 0) + 1);
  const updated = new Map(
    (await db(undefined, `select stream_id, count(*)::int as n from events where type = 'DocumentUpdated' group by 1`)).map((r) => [String(r.stream_id), r.n]),
  );
  const updateMismatch = [...updates].filter(([doc, n]) => [...updated].find(([stream]) => stream.endsWith(doc))?.[1] !== n);
  check(
    updateMismatch.length === 0,
    `each acknowledged update is one event, retries included (${updates.size} documents, ${updateMismatch.length} mismatched)`,
  );
  const deleted = new Set(acknowledged.filter((o) => o.op === 'delete').map((o) => o.target!));
  for (const tenant of tenants) {
    const [{ database_name }] = await db(undefined, 'select database_name from tenants where tenant_id = $1', [tenant.tenantId]);
    const visible = new Set((await db(database_name, 'select document_id::text as id from documents')).map((r) => r.id));
    const expected = uploads.filter((o) => o.tenantId === tenant.tenantId && !deleted.has(o.target!)).map((o) => o.target!);
    const missing = expected.filter((id) => !visible.has(id));
    const ghosts = [...deleted].filter((id) => visible.has(id));
    if (missing.length || ghosts.length)
      check(false, `tenant ${tenant.tenantId}: ${missing.length} acknowledged uploads missing, ${ghosts.length} deleted ones still listed`);
  }
  check(true, 'the query API lists every acknowledged, undeleted upload and no deleted one (per tenant, above if not)');
  const replay = await compareWithFreshReplay(system.env.DATABASE_URL!);
  check(
    replay.differences.length === 0,
    `every read model (main, audit, ${replay.tenants} tenants) equals a fresh replay of ${replay.events} events${replay.differences.length ? `: ${replay.differences.join(' ; ')}` : ''}`,
  );
  // /ready checks answer within 2 s or fail: on a loaded machine a process gets a minute to say so.
  const notReady: string[] = [];
  for (const url of [system.commandUrl, system.queryUrl, ...Object.values(system.projectorUrls)]) {
    let answer = await request(url, 'GET', '/ready');
    for (let i = 0; answer.status !== 200 && i < 30; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      answer = await request(url, 'GET', '/ready');
    }
    if (answer.status !== 200) notReady.push(`${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  check(notReady.length === 0, `every process reports ready again without a restart by hand${notReady.length ? ` (not: ${notReady.join(' ; ')})` : ''}`);
  const exits = system.unexpectedExits();
  check(
    !exits.some((e) => e.startsWith('command-api') || e.startsWith('query-api')),
    `the APIs never died (${exits.join(' ; ') || 'no process died on its own'})`,
  );
  if (exits.length) log(`projector exits not caused by SIGKILL (restarted by the supervisor): ${exits.join(' ; ')}`);
  log(`restarts after SIGKILL: ${JSON.stringify(system.restarts())}`);
} catch (err) {
  failures.push(`soak aborted: ${(err as Error).stack}`);
  log(failures.at(-1)!);
} finally {
  await system.stop();
}
log(failures.length === 0 ? 'SOAK PASSED' : `SOAK FAILED: ${failures.length} finding(s)`);
process.exit(failures.length === 0 ? 0 : 1);
