// The whole system as real processes on a stack of its own (test/support/own-stack.ts): its own
// PostgreSQL, Kafka and MinIO on their own ports, so the soak and load runs can stop and
// restart services without touching the shared ones. Each process is restarted when it dies,
// as a supervisor would; `kill` sends SIGKILL to one of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ownStack, type OwnStack } from '../support/own-stack.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// As scripts/run-all.ts starts it (importing that file would start the whole system).
const COMMAND_API_NODE_FLAGS = ['--max-semi-space-size=4'];
export const PROJECTORS = ['projector-main', 'provisioner', 'projector-tenant'] as const;
const ENTRIES: Record<string, string> = {
  'command-api': 'command-api/server.ts',
  'query-api': 'query-api/server.ts',
  'projector-main': 'projectors/main/server.ts',
  provisioner: 'projectors/provisioner/server.ts',
  'projector-tenant': 'projectors/tenant/server.ts',
};

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export type RunningSystem = {
  stack: OwnStack;
  env: Record<string, string>;
  commandUrl: string;
  queryUrl: string;
  projectorUrls: Record<string, string>;
  kill: (name: string) => void;
  restarts: () => Record<string, number>;
  /** Exits that were not ours (a crash, or a stray error ending the process), with their output tail. */
  unexpectedExits: () => string[];
  stop: () => Promise<void>;
};

export async function startSystemProcesses(settings: Record<string, string> = {}, log: (line: string) => void = console.log): Promise<RunningSystem> {
  const teardowns: (() => Promise<void> | void)[] = [];
  const stack = await ownStack({ teardown: (fn) => teardowns.push(fn) }, ['minio', 'kafka', 'pg']);
  const started = Date.now();
  log(`starting own PostgreSQL, Kafka and MinIO in ${stack.state}`);
  // A stack that fails half-way (a port taken, a build failing) is stopped, never left running.
  const stopStack = async () => {
    await stopStack();
  };
  await stack.infra('up').catch(async (err: unknown) => {
    await stopStack();
    throw err;
  });
  log(`services up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const ports = {
    command: await freePort(),
    query: await freePort(),
    projectors: Object.fromEntries(await Promise.all(PROJECTORS.map(async (p) => [p, await freePort()] as const))),
  };
  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    // Access tokens outlive the run (a soak takes longer than the default 15 min).
    ...stack.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    TOPIC_PARTITIONS: '6',
    ACCESS_TOKEN_TTL_SECONDS: '14400',
    // Every simulated client registers and logs in from this one address; the per-address limit
    // is proven in test/abuse-limits.e2e.test.ts, not here.
    AUTH_RATE_LIMIT_PER_IP: '100000',
    COMMAND_API_PORT: String(ports.command),
    QUERY_API_PORT: String(ports.query),
    ...settings,
  };
  await runOnce('scripts/migrate.ts', env).catch(async (err: unknown) => {
    await stopStack();
    throw err;
  });
  const children = new Map<string, ChildProcess>();
  const restarts: Record<string, number> = {};
  const killedByUs = new Set<number>();
  const unexpected: string[] = [];
  let stopping = false;

  function launch(name: string): void {
    const flags = name === 'command-api' ? COMMAND_API_NODE_FLAGS : [];
    const projectorPort = ports.projectors[name];
    const child = spawn(process.execPath, [...flags, resolve(ROOT, ENTRIES[name]!)], {
      cwd: ROOT,
      env: { ...env, ...(projectorPort ? { PROJECTOR_PORT: String(projectorPort) } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
    });
    children.set(name, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      if (!killedByUs.delete(child.pid ?? -1)) unexpected.push(`${name} exited (${signal ?? code}): ${tail.trim().split('\n').slice(-3).join(' | ')}`);
      restarts[name] = (restarts[name] ?? 0) + 1;
      setTimeout(() => {
        if (!stopping) launch(name);
      }, 200);
    });
  }
  for (const name of Object.keys(ENTRIES)) launch(name);
  const commandUrl = `http://127.0.0.1:${ports.command}`;
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  const projectorUrls = Object.fromEntries(PROJECTORS.map((p) => [p, `http://127.0.0.1:${ports.projectors[p]}`]));
  async function stop(): Promise<void> {
    stopping = true;
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    await stopStack();
  }
  // Nothing may outlive a failed start: the children and the stack's daemons are stopped first.
  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130));
  });
  try {
    for (const url of [commandUrl, queryUrl, ...Object.values(projectorUrls)]) await waitReady(url);
  } catch (err) {
    await stop();
    throw err;
  }
  log(`every process is ready ${((Date.now() - started) / 1000).toFixed(1)} s after the start`);
  return {
    stack,
    env,
    commandUrl,
    queryUrl,
    projectorUrls,
    stop,
    kill(name) {
      const child = children.get(name);
      if (!child?.pid) return;
      killedByUs.add(child.pid);
      child.kill('SIGKILL');
    },
    restarts: () => ({ ...restarts }),
    unexpectedExits: () => [...unexpected],
  };
}

// Generous: on a loaded 2-core machine five processes may take minutes to be ready.
async function waitReady(url: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function runOnce(entry: string, env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, entry)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${entry} exited ${code}: ${output}`))));
  });
}
