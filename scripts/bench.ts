// Benchmarks, each printed as a ratio against a baseline measured in the same run:
//  1. query API GET /api/users/me (JWT + session check + read model) vs bare Fastify on the same machine;
//  2. event append (events + outbox under the append lock) vs a plain INSERT of the same rows.
import Fastify from 'fastify';
import { sql } from '../platform/db.ts';
import { appendToStreams } from '../platform/event-store.ts';
import { createTestContext } from '../test/support/harness.ts';
import { startSystem } from '../test/support/system.ts';

const teardowns: (() => Promise<void> | void)[] = [];
const t = { teardown: (fn: () => Promise<void> | void) => { teardowns.push(fn); } };
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = 16;

async function load(url: string, headers: Record<string, string>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) {
      const response = await fetch(url, { headers });
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
      await response.arrayBuffer();
    }
  }));
  return REQUESTS / ((performance.now() - started) / 1000);
}

const ctx = await createTestContext(t);
try {
  const system = await startSystem(t, ctx);
  const register = await system.command.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'bench@example.com', password: 'bench-password', displayName: 'Bench' } });
  const login = await system.command.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'bench@example.com', password: 'bench-password' } });
  const token = (login.json() as { access_token: string }).access_token;
  const position = String((register.json() as { position: number }).position);
  await system.query.listen({ port: 0, host: '127.0.0.1' });
  const queryUrl = `http://127.0.0.1:${(system.query.server.address() as { port: number }).port}/api/users/me`;
  await fetch(queryUrl, { headers: { authorization: `Bearer ${token}`, 'x-min-position': position } });

  const bare = Fastify();
  bare.get('/api/users/me', async () => ({ id: 'x', email: 'bench@example.com', displayName: 'Bench', registeredAt: new Date().toISOString() }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/api/users/me`;

  await load(bareUrl, {}); // warm-up
  const bareRps = await load(bareUrl, {});
  const queryRps = await load(queryUrl, { authorization: `Bearer ${token}` });
  await bare.close();
  console.log(`query API GET /api/users/me: ${queryRps.toFixed(0)} req/s; bare Fastify: ${bareRps.toFixed(0)} req/s; ratio ${(queryRps / bareRps).toFixed(3)} (${REQUESTS} requests, ${CONCURRENCY} concurrent)`);

  const N = 500;
  await ctx.pool.query(sql.unsafe`create table bench_plain (id bigserial primary key, stream_id text, data jsonb)`);
  let started = performance.now();
  for (let i = 0; i < N; i++) {
    await ctx.pool.transaction((tx) => tx.query(sql.unsafe`insert into bench_plain (stream_id, data) values (${`s-${i}`}, ${sql.jsonb({ i })})`));
  }
  const plainMs = performance.now() - started;
  started = performance.now();
  const registry = () => ({ schemaVersion: 1, category: 'platform' });
  for (let i = 0; i < N; i++) {
    await ctx.pool.transaction((tx) => appendToStreams(tx, [{ streamId: `bench-${i}`, expectedVersion: 0, events: [{ type: 'BenchEvent', data: { i } }] }],
      { tenantId: null, actor: null, correlationId: crypto.randomUUID(), causationId: null, occurredAt: new Date() }, registry, () => ctx.topics.platform));
  }
  const appendMs = performance.now() - started;
  console.log(`event append: ${(N / (appendMs / 1000)).toFixed(0)} appends/s; plain INSERT transaction: ${(N / (plainMs / 1000)).toFixed(0)}/s; ratio ${(plainMs / appendMs).toFixed(3)} (${N} sequential transactions)`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
