// A login flood against the command API while a client reads: the p99 of the read with bcrypt
// unbounded (every libuv thread hashing) and with the default bound (passwords.ts), same run.
// `node test/benchmarks/login-flood.ts` (the infra env loaded); BCRYPT_COST 12 as in production.
import { createTestContext } from '../support/harness.ts';
import { startParts } from '../support/system.ts';
import { createServices } from '../../core/adapters/services.ts';
import { loadConfig } from '../../core/adapters/config.ts';
import { buildCommandApi } from '../../command-api/app.ts';
import { defaultBcryptConcurrency } from '../../command-api/auth/passwords.ts';

const teardowns: (() => Promise<void> | void)[] = [];
const t = {
  teardown: (fn: () => Promise<void> | void) => {
    teardowns.push(fn);
  },
};
const FLOOD_MS = Number(process.env.FLOOD_MS ?? 10_000);
const FLOODERS = Number(process.env.FLOODERS ?? 32);

const ctx = await createTestContext(t, { BCRYPT_COST: '12' });
const percentile = (values: number[], p: number) => values.toSorted((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;
const urlOf = (app: { server: { address: () => unknown } }) => `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

try {
  const parts = await startParts(t, ctx);
  const register = await parts.command.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email: 'flood@example.com', password: 'flood-password', displayName: 'Flood' },
  });
  const login = await parts.command.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'flood@example.com', password: 'flood-password' } });
  const token = (login.json() as { access_token: string }).access_token;
  await parts.query.listen({ port: 0, host: '127.0.0.1' });
  const readUrl = `${urlOf(parts.query)}/api/users/me`;
  await fetch(readUrl, { headers: { authorization: `Bearer ${token}`, 'x-min-position': String((register.json() as { position: number }).position) } });

  async function readLatencies(until: () => boolean): Promise<number[]> {
    const latencies: number[] = [];
    while (until()) {
      const started = performance.now();
      const response = await fetch(readUrl, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return latencies;
  }

  const quietEnd = Date.now() + 3000;
  const quiet = await readLatencies(() => Date.now() < quietEnd);
  console.log(`no flood: reads p50 ${percentile(quiet, 0.5).toFixed(1)} ms, p99 ${percentile(quiet, 0.99).toFixed(1)} ms (${quiet.length} reads)`);

  for (const [label, concurrency] of [
    ['unbounded (64)', '64'],
    [`bounded (default: ${defaultBcryptConcurrency()})`, '0'],
  ] as const) {
    const services = await createServices(loadConfig({ ...process.env, ...ctx.env, BCRYPT_COST: '12', BCRYPT_CONCURRENCY: concurrency }), ctx.logger);
    const command = await buildCommandApi(services);
    await command.listen({ port: 0, host: '127.0.0.1' });
    const loginUrl = `${urlOf(command)}/api/auth/login`;
    const end = Date.now() + FLOOD_MS;
    let logins = 0;
    const statuses: Record<string, number> = {};
    const flood = Promise.all(
      Array.from({ length: FLOODERS }, async () => {
        while (Date.now() < end) {
          const status = await fetch(loginUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'flood@example.com', password: 'wrong-password' }),
          }).then(
            async (response) => {
              await response.arrayBuffer();
              return String(response.status);
            },
            () => 'failed',
          );
          statuses[status] = (statuses[status] ?? 0) + 1;
          logins++;
        }
      }),
    );
    const reads = await readLatencies(() => Date.now() < end);
    await flood;
    console.log(
      `flood, bcrypt ${label}: reads p50 ${percentile(reads, 0.5).toFixed(1)} ms, p99 ${percentile(reads, 0.99).toFixed(1)} ms (${reads.length} reads); ` +
        `${(logins / (FLOOD_MS / 1000)).toFixed(1)} login answers/s ${JSON.stringify(statuses)}`,
    );
    await command.close();
    await services.close();
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
