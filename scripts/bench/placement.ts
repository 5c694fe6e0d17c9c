// Placement at scale (not part of npm test: minutes of a whole machine): `npm run bench -- placement`.
// Provisions PLACEMENT_TENANTS (default 1,000) tenants over the configured tenant servers (the
// two local clusters of scripts/infra.sh), PLACEMENT_CONCURRENCY at a time, each timed from POST
// /api/tenants to `active` in the query API; compares the p50 of the first 100 with the last 100
// (goal: within 1.5×), and samples pg_stat_activity on every server for the connections to this
// run's databases, against the bound the configuration states.
import pg from 'pg';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';
import { call, percentile, waitUntilActive, type Stack } from './stack.ts';
import type { BenchResult } from './result.ts';

const TENANTS = Number(process.env.PLACEMENT_TENANTS ?? 1000);
const CONCURRENCY = Number(process.env.PLACEMENT_CONCURRENCY ?? 4);
const PER_USER = 200; // under the stack's TENANTS_PER_USER
// Processes that open tenant databases through tenant pools: the query API and the tenant projector.
const POOLED_PROCESSES = 2;

export async function benchPlacement(stack: Stack): Promise<BenchResult[]> {
  const servers = createTenantServers(stack.config);
  const mainDatabase = new URL(stack.config.DATABASE_URL).pathname.slice(1);
  const tokens: string[] = [];
  for (let u = 0; u < Math.ceil(TENANTS / PER_USER); u++) {
    const email = `placement-${u}@bench.example.com`;
    await call(`${stack.commandUrl}/api/auth/register`, 'POST', { body: { email, password: 'bench-password-1', displayName: 'P' }, expect: 201 });
    tokens.push((await call(`${stack.commandUrl}/api/auth/login`, 'POST', { body: { email, password: 'bench-password-1' }, expect: 200 })).access_token);
  }

  // Connections to this run's databases on each server, sampled while the tenants are provisioned.
  const peakTenant: Record<string, number> = Object.fromEntries(servers.names().map((s) => [s, 0]));
  const peakAll: Record<string, number> = { ...peakTenant };
  const samplers = await Promise.all(
    servers.names().map(async (server) => {
      const client = new pg.Client({ connectionString: servers.serverUri(server) });
      await client.connect();
      return { server, client };
    }),
  );
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const { server, client } of samplers) {
        const { rows } = await client.query(
          `select count(*) filter (where datname like 'tenant\\_bpl\\_%')::int as tenant,
          count(*) filter (where datname like 'tenant\\_bpl\\_%' or datname = $1)::int as ours from pg_stat_activity`,
          [mainDatabase],
        );
        peakTenant[server] = Math.max(peakTenant[server] ?? 0, rows[0].tenant);
        peakAll[server] = Math.max(peakAll[server] ?? 0, rows[0].ours);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();

  const times: number[] = new Array<number>(TENANTS).fill(Number.NaN);
  const notActive: string[] = [];
  const timed = (slice: number[]) => slice.filter((ms) => !Number.isNaN(ms));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < TENANTS; i = next++) {
        const token = tokens[Math.floor(i / PER_USER)]!;
        const begun = performance.now();
        const { id } = await call(`${stack.commandUrl}/api/tenants`, 'POST', { token, body: { name: `P ${i}`, slug: `bpl-${i}` }, expect: 202 });
        try {
          await waitUntilActive(stack, token, id, 120_000);
          times[i] = performance.now() - begun;
        } catch (err) {
          // One slow tenant is a finding of the run, not the end of it.
          notActive.push(`${i}: ${(err as Error).message}`);
        }
        if (i % 100 === 99) process.stderr.write(`bench: placement ${i + 1}/${TENANTS} tenants, ${Math.round((performance.now() - started) / 1000)} s\n`);
      }
    }),
  );
  sampling = false;
  await sampler;
  const perServer: Record<string, number> = {};
  for (const { server, client } of samplers) {
    perServer[server] = Number((await client.query(`select count(*)::int as n from pg_database where datname like 'tenant\\_bpl\\_%'`)).rows[0].n);
    await client.end();
  }

  const first = percentile(timed(times.slice(0, 100)), 50);
  const last = percentile(timed(times.slice(-100)), 50);
  const { TENANT_POOLS_MAX: maxPools, TENANT_POOL_SIZE: poolSize, DATABASE_POOL_SIZE: mainPool } = stack.config;
  const tenantBound = POOLED_PROCESSES * maxPools * poolSize;
  return [
    {
      name: 'placement',
      what: `${TENANTS} tenants over ${servers.names().length} servers (${CONCURRENCY} at a time), POST → active: p50 of the last 100 vs the first 100`,
      value: last,
      unit: 'ms (p50, last 100)',
      baseline: { what: 'p50 of the first 100', value: first, unit: 'ms' },
      ratio: last / first,
      goal: 'last within 1.5× of first; connections under the bound',
      details: {
        tenants: TENANTS,
        concurrency: CONCURRENCY,
        seconds: Math.round((performance.now() - started) / 1000),
        tenantsPerServer: JSON.stringify(perServer),
        firstP50Ms: first,
        lastP50Ms: last,
        p99Ms: percentile(timed(times), 99),
        notActiveWithin120s: notActive.length,
        ...(notActive.length ? { firstNotActive: notActive[0] } : {}),
        peakTenantDbConnections: JSON.stringify(peakTenant),
        peakConnectionsInclMainDb: JSON.stringify(peakAll),
        bound: `per server: tenant databases ≤ ${POOLED_PROCESSES} pooled processes × TENANT_POOLS_MAX ${maxPools} × TENANT_POOL_SIZE ${poolSize} = ${tenantBound} (+ the provisioner's 1), main database ≤ DATABASE_POOL_SIZE ${mainPool} per process`,
      },
    },
  ];
}
