// Reads: a page of 50 documents from the query API (token, session, membership, the page) against
// bare Fastify returning the same JSON from memory, both in processes of their own.
import { call, tenantFor, type Stack } from './stack.ts';
import { bareFastify, hammer } from './load.ts';
import { uploadSmall } from './documents.ts';
import type { BenchResult } from './result.ts';
import { measureCpu } from './cpu.ts';

const CONNECTIONS = 50;

export async function benchReads(stack: Stack, seconds: number): Promise<BenchResult[]> {
  const { token, tenantId } = await tenantFor(stack, 'bench-reads');
  let position = 0;
  for (let i = 0; i < 60; i++) position = (await uploadSmall(stack, token, tenantId, `page-${i}`)).position;
  const path = `/api/tenants/${tenantId}/documents?limit=50`;
  const page = await call(`${stack.queryUrl}${path}`, 'GET', { token, headers: { 'x-min-position': String(position) }, expect: 200 });
  if (page.items.length !== 50) throw new Error(`expected a full page, got ${page.items.length}`);

  const bare = await bareFastify(page);
  try {
    await hammer({ url: `${bare.url}${path}`, connections: CONNECTIONS, duration: 2 }); // warm-up
    const baseline = await hammer({ url: `${bare.url}${path}`, connections: CONNECTIONS, duration: seconds });
    await hammer({ url: `${stack.queryUrl}${path}`, connections: CONNECTIONS, duration: 2, headers: { authorization: `Bearer ${token}` } });
    const cpu = measureCpu(stack.pids);
    const measured = await hammer({
      url: `${stack.queryUrl}${path}`,
      connections: CONNECTIONS,
      duration: seconds,
      headers: { authorization: `Bearer ${token}` },
    });
    return [
      {
        name: 'reads',
        what: `GET …/documents?limit=50, ${CONNECTIONS} connections`,
        value: measured.rps,
        unit: 'req/s',
        baseline: { what: 'bare Fastify, same JSON from memory', value: baseline.rps, unit: 'req/s' },
        ratio: measured.rps / baseline.rps,
        goal: '≥ 0.5',
        cpu: cpu.stop(),
        details: { p50Ms: measured.p50, p99Ms: measured.p99, errors: measured.errors, non2xx: measured.non2xx, bareP99Ms: baseline.p99 },
      },
    ];
  } finally {
    await bare.stop();
  }
}
