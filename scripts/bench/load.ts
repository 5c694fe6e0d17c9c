// Load generation shared by the benchmarks: autocannon in this process, a bare Fastify baseline
// in a child process, and the numbers every scenario reports.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
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
 * A closed loop where each client needs its own state: `clients` connections, each sending the
 * request `next(client, n)` builds for its n-th turn as soon as its previous one is answered, for
 * `seconds`. autocannon drives it (a request's context is reset on every request there, so each
 * connection keeps its client number and turn in a closure of its own, set up per connection):
 * its raw sockets cost the load generator about 0.1 ms of CPU per request, where node:http's
 * client cost 0.25-0.28 ms on this machine, CPU the measured processes share.
 */
export async function closedLoop(options: {
  url: string;
  clients: number;
  seconds: number;
  next: (client: number, n: number) => { method: string; path: string; headers: Record<string, string>; body?: string };
}): Promise<LoadResult> {
  let connections = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.clients,
    duration: options.seconds,
    setupClient: (client) => {
      const me = connections++;
      let n = 0;
      const turn = () => options.next(me, ++n) as autocannon.Request;
      client.setRequests([{ ...turn(), setupRequest: (request) => ({ ...request, ...turn() }) }]);
    },
  });
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
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
