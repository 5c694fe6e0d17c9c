// Provisioning: 50 tenants, each from POST /api/tenants to `active` in the query API.
import { call, percentile, waitUntilActive, type Stack } from './stack.ts';
import type { BenchResult } from './result.ts';

const TENANTS = 50;

export async function benchProvisioning(stack: Stack): Promise<BenchResult[]> {
  const email = 'provisioning@bench.example.com';
  await call(`${stack.commandUrl}/api/auth/register`, 'POST', { body: { email, password: 'bench-password-1', displayName: 'P' }, expect: 201 });
  const { access_token: token } = await call(`${stack.commandUrl}/api/auth/login`, 'POST', { body: { email, password: 'bench-password-1' }, expect: 200 });
  const times: number[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const started = performance.now();
    const { id } = await call(`${stack.commandUrl}/api/tenants`, 'POST', { token, body: { name: `P ${i}`, slug: `bench-p-${i}` }, expect: 202 });
    await waitUntilActive(stack, token, id);
    times.push(performance.now() - started);
  }
  return [
    {
      name: 'provisioning',
      what: `${TENANTS} tenants, POST /api/tenants → active in the query API`,
      value: percentile(times, 50),
      unit: 'ms (p50)',
      goal: 'p50 < 1 s',
      details: { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) },
    },
  ];
}
