// A second set of local services beside the shared one, for tests that stop or restart a
// service (the shared ones serve every other checkout and must never stop): scripts/infra.sh
// with its own state dir and its own ports. The Kafka jars and the MinIO, Mailpit and OpenBao binaries are linked
// from the shared state dir, so nothing is downloaded or built again.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type Service = 'pg' | 'kafka' | 'minio';
type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = resolve(process.env.LEDGERLINE_LOCAL ?? join(ROOT, '.local'));

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

export type OwnStack = {
  state: string;
  /** The LEDGERLINE_* overrides infra.sh reads, plus what `infra.sh env` prints for them. */
  env: Record<string, string>;
  start: (service: Service) => Promise<void>;
  stop: (service: Service) => Promise<void>;
  /** Runs `infra.sh <command>` against this stack; resolves with its output, rejects on a non-zero exit. */
  infra: (command: string) => Promise<string>;
};

export async function ownStack(t: Teardown, services: Service[]): Promise<OwnStack> {
  const state = mkdtempSync(join(tmpdir(), 'll-stack-'));
  chmodSync(state, 0o755); // PostgreSQL runs as user postgres and must reach its data dir inside
  const ports = {
    LEDGERLINE_PG_PORT: await freePort(),
    LEDGERLINE_KAFKA_PORT: await freePort(),
    LEDGERLINE_KAFKA_CTRL_PORT: await freePort(),
    LEDGERLINE_S3_PORT: await freePort(),
    LEDGERLINE_S3_CONSOLE_PORT: await freePort(),
    LEDGERLINE_PG2_PORT: await freePort(),
    LEDGERLINE_MAILPIT_SMTP_PORT: await freePort(),
    LEDGERLINE_MAILPIT_HTTP_PORT: await freePort(),
    LEDGERLINE_VAULT_PORT: await freePort(),
  };
  const overrides = { LEDGERLINE_LOCAL: state, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  // Reuse what the shared stack fetched and built (read-only): jars, the MinIO and Mailpit binaries, OpenBao.
  if (existsSync(join(SHARED, 'kafka/libs'))) {
    mkdirSync(join(state, 'kafka'), { recursive: true });
    symlinkSync(join(SHARED, 'kafka/libs'), join(state, 'kafka/libs'));
    copyFileSync(join(SHARED, 'kafka/libs.sha256'), join(state, 'kafka/libs.sha256'));
  }
  for (const binary of ['minio', 'mailpit']) {
    if (!existsSync(join(SHARED, 'bin', binary))) continue;
    mkdirSync(join(state, 'bin'), { recursive: true });
    symlinkSync(join(SHARED, 'bin', binary), join(state, 'bin', binary));
  }
  if (existsSync(join(SHARED, 'openbao/bin/bao'))) {
    mkdirSync(join(state, 'openbao/bin'), { recursive: true });
    symlinkSync(join(SHARED, 'openbao/bin/bao'), join(state, 'openbao/bin/bao'));
    copyFileSync(join(SHARED, 'openbao/version'), join(state, 'openbao/version'));
  }
  const infra = (command: string) =>
    new Promise<string>((done, fail) => {
      const child = spawn('bash', [join(ROOT, 'scripts/infra.sh'), ...command.split(' ')], {
        env: { ...process.env, ...overrides },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.on('exit', (code) => (code === 0 ? done(output) : fail(new Error(`infra.sh ${command} exited ${code}:\n${output}`))));
    });
  const env: Record<string, string> = { ...overrides };
  for (const line of (await infra('env')).split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  // One PostgreSQL cluster per own stack: its tenants stay on it (empty also hides the shared
  // stack's TENANT_SERVERS that `npm test` exports to every process).
  env.TENANT_SERVERS = '';
  const command = { pg: 'pg', kafka: 'kafka', minio: 'minio' } as const;
  const stack: OwnStack = {
    state,
    env,
    infra,
    start: async (service) => {
      await infra(`${command[service]}-start`);
    },
    stop: async (service) => {
      await infra(`${command[service]}-stop`);
    },
  };
  t.teardown(async () => {
    for (const service of services) await stack.stop(service).catch(() => {});
    rmSync(state, { recursive: true, force: true });
  });
  return stack;
}
