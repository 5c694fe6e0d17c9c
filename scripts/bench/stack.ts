// The real system for a benchmark: every process spawned as `npm start` runs it, on a database,
// topic prefix and S3 key prefix of its own (removed afterwards), so a bench never touches
// development data and measures what a deployment runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import pg from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '../../core/adapters/config.ts';
import { withDatabase } from '../../core/adapters/db.ts';
import { migrate, MAIN_MIGRATIONS } from '../../core/adapters/migrate.ts';
import { createEventLog, topicNames } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createS3Clients, type S3Clients } from '../../core/adapters/s3.ts';
import { PROCESSES } from '../processes.ts';
import { createTenantServers } from '../../core/adapters/tenant-servers.ts';

export type Stack = {
  config: Config;
  env: Record<string, string>;
  commandUrl: string;
  queryUrl: string;
  s3: S3Clients;
  pids: Record<string, number>;
  admin: (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
  stop: () => Promise<void>;
};

const PROFILE_DIR = `${process.env.LEDGERLINE_LOCAL ?? '.local'}/bench/profiles`;

export async function startStack(options: { commandPort?: number; queryPort?: number } = {}): Promise<Stack> {
  const base = loadConfig({ ...process.env, NODE_ENV: 'development' });
  const id = `bench${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const admin = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: base.DATABASE_URL });
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ll_${id}`);
  const commandPort = options.commandPort ?? (await freePort());
  const queryPort = options.queryPort ?? (await freePort());
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: withDatabase(base.DATABASE_URL, `ll_${id}`),
    TOPIC_PREFIX: `${id}.`,
    S3_KEY_PREFIX: `${id}/`,
    BCRYPT_COST: '4',
    COMMAND_API_PORT: String(commandPort),
    QUERY_API_PORT: String(queryPort),
    PROJECTOR_PORT: '0',
    TENANTS_PER_USER: '1000', // the provisioning scenario creates 50 tenants as one user
  };
  const config = loadConfig(env);
  await migrate(config.DATABASE_URL, MAIN_MIGRATIONS);
  const logger = createLogger('bench', config);
  const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: id, logger });
  const topics = Object.values(topicNames(config.TOPIC_PREFIX));
  await eventLog.ensureTopics(topics, config.TOPIC_PARTITIONS);
  await eventLog.close();

  const children: ChildProcess[] = [];
  const pids: Record<string, number> = {};
  // BENCH_PROFILE=query-api,command-api writes a V8 CPU profile of those processes on exit.
  const profiled = new Set((process.env.BENCH_PROFILE ?? '').split(',').filter(Boolean));
  for (const { name, entry, flags = [], projector } of PROCESSES) {
    const port = projector ? { PROJECTOR_PORT: String(await freePort()) } : {};
    // One directory per process: Node names each thread's profile (main thread, worker threads) itself.
    const profile = profiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${name}`] : [];
    const child = spawn(process.execPath, [...flags, ...profile, entry], {
      env: { ...env, ...port },
      stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
    });
    children.push(child);
    pids[name] = child.pid!;
  }
  // Whatever ends the bench (an error, Ctrl-C) ends its processes too.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  const commandUrl = `http://127.0.0.1:${commandPort}`;
  const queryUrl = `http://127.0.0.1:${queryPort}`;
  for (const url of [commandUrl, queryUrl]) await waitFor(`${url}/health`);
  const s3 = createS3Clients(config);

  return {
    config,
    env,
    commandUrl,
    queryUrl,
    s3,
    pids,
    admin,
    async stop() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
      const pool = new pg.Client({ connectionString: config.DATABASE_URL });
      await pool.connect();
      const names = (await pool.query<{ name: string }>(`select distinct data->>'databaseName' as name from events where type = 'TenantCreated'`)).rows.map(
        (r) => r.name,
      );
      await pool.end();
      // Tenant databases may be on any tenant server (TENANT_SERVERS); the main one is on the first cluster.
      const servers = createTenantServers(config);
      for (const server of servers.names()) {
        const client = new pg.Client({ connectionString: servers.serverUri(server) });
        await client.connect();
        try {
          for (const name of names) await client.query(`drop database if exists "${name.replace(/"/g, '')}" with (force)`);
        } finally {
          await client.end();
        }
      }
      await admin(`drop database if exists "ll_${id}" with (force)`);
      await deletePrefix(s3, config.S3_KEY_PREFIX);
      const cleanup = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: `${id}-cleanup`, logger });
      await cleanup.deleteGroupsWithPrefix(config.TOPIC_PREFIX).catch(() => {});
      await cleanup.deleteTopicsWithPrefix(config.TOPIC_PREFIX).catch(() => {});
      await cleanup.close();
      s3.internal.destroy();
      s3.publicSigner.destroy();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function deletePrefix(s3: S3Clients, prefix: string): Promise<void> {
  for (;;) {
    const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return;
    await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys } }));
  }
}

/** JSON over HTTP against the stack, throwing on an unexpected status. */
export async function call(
  url: string,
  method: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; expect?: number } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON of many different answers
): Promise<any> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  if (options.expect !== undefined && response.status !== options.expect) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A user with a token and an active tenant, ready for documents. */
export async function tenantFor(stack: Stack, slug: string): Promise<{ token: string; tenantId: string }> {
  const email = `${slug}@bench.example.com`;
  await call(`${stack.commandUrl}/api/auth/register`, 'POST', { body: { email, password: 'bench-password-1', displayName: slug }, expect: 201 });
  const { access_token: token } = await call(`${stack.commandUrl}/api/auth/login`, 'POST', { body: { email, password: 'bench-password-1' }, expect: 200 });
  const { id: tenantId } = await call(`${stack.commandUrl}/api/tenants`, 'POST', { token, body: { name: slug, slug }, expect: 202 });
  await waitUntilActive(stack, token, tenantId);
  return { token, tenantId };
}

export async function waitUntilActive(stack: Stack, token: string, tenantId: string, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${stack.queryUrl}/api/tenants/${tenantId}`, { headers: { authorization: `Bearer ${token}` } });
    if (response.ok && ((await response.json()) as { status: string }).status === 'active') return performance.now() - started;
    if (!response.ok) await response.arrayBuffer();
    if (performance.now() - started > timeoutMs) throw new Error(`tenant ${tenantId} not active within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
