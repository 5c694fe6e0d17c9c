// Aggregates: a command's cost must not grow with its stream's length. 1,000 sequential title
// changes of one document; the latency around the 10th against the latency around the 1,000th.
import { call, percentile, tenantFor, type Stack } from './stack.ts';
import { uploadSmall } from './documents.ts';
import type { BenchResult } from './result.ts';

const UPDATES = 1000;

export async function benchAggregate(stack: Stack): Promise<BenchResult[]> {
  const { token, tenantId } = await tenantFor(stack, 'bench-aggregate');
  const { id } = await uploadSmall(stack, token, tenantId, 'long-stream');
  const times: number[] = [];
  for (let i = 1; i <= UPDATES; i++) {
    const started = performance.now();
    await call(`${stack.commandUrl}/api/tenants/${tenantId}/documents/${id}`, 'PUT', { token, body: { title: `v${i}` }, expect: 200 });
    times.push(performance.now() - started);
  }
  const early = percentile(times.slice(5, 25), 50);
  const late = percentile(times.slice(UPDATES - 20), 50);
  return [
    {
      name: 'aggregate',
      what: 'PUT on a document: median latency around its 1,000th update',
      value: late,
      unit: 'ms',
      baseline: { what: 'the same around its 10th update', value: early, unit: 'ms' },
      ratio: late / early,
      goal: '≤ 1.5',
    },
  ];
}
