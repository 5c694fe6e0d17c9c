// Load generation shared by the benchmarks: autocannon in this process, a bare Fastify baseline
// in a child process, and the numbers every scenario reports.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

export type LoadResult = { rps: number; p50: number; p99: number; errors: number; non2xx: number; total: number };

export async function hammer(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/**
 * A closed loop where each client needs its own state (autocannon resets a request's context
 * on every request): `clients` connections, each sending the request `next(client, n)` builds
 * for its n-th turn as soon as its previous one is answered, for `seconds`.
 */
export async function closedLoop(options: {
  url: string;
  clients: number;
  seconds: number;
  next: (client: number, n: number) => { method: string; path: string; headers: Record<string, string>; body?: string };
}): Promise<LoadResult> {
  const { hostname, port } = new URL(options.url);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const send = (agent: Agent, built: ReturnType<typeof options.next>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ hostname, port, agent, method: built.method, path: built.path, headers: built.headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(built.body);
    });
  await Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let n = 1; performance.now() < deadline; n++) {
        const sent = performance.now();
        try {
          const status = await send(agent, options.next(client, n));
          if (status < 200 || status >= 300) non2xx += 1;
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - sent);
      }
      agent.destroy();
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    rps: latencies.length / ((performance.now() - started) / 1000),
    p50: Math.round(at(50)),
    p99: Math.round(at(99)),
    errors,
    non2xx,
    total: latencies.length,
  };
}

/** Bare Fastify serving `body` on every GET, in its own process; returns its base URL and a stop. */
export async function bareFastify(body: unknown): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [new URL('./bare-server.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(body));
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return {
    url: `http://127.0.0.1:${line.trim()}`,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
