// A 1 GiB upload streams through the command API: it goes to S3 while being hashed, and the
// process's resident memory grows by less than 64 MiB (measured from /proc on a real server).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { createTestContext } from './support/harness.ts';
import { startSystem, client } from './support/system.ts';

const GiB = 1024 * 1024 * 1024;
const SIZE = Number(process.env.UPLOAD_MEMORY_TEST_BYTES ?? GiB);

const ctx = await createTestContext(t, { MAX_UPLOAD_BYTES: String(2 * GiB) });
const system = await startSystem(t, ctx);
const call = client(system.command);
const query = client(system.query);

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

t.test(`a ${SIZE / GiB} GiB upload keeps the command API's RSS growth under 64 MiB`, async (t) => {
  await call('POST', '/api/auth/register', { body: { email: 'big@example.com', password: 'password123', displayName: 'Big' } });
  const token = (await call('POST', '/api/auth/login', { body: { email: 'big@example.com', password: 'password123' } })).body.access_token as string;
  const created = await call('POST', '/api/tenants', { token, body: { name: 'Big', slug: 'big-files' } });
  let tenant = await query('GET', `/api/tenants/${created.body.id}`, { token, headers: { 'x-min-position': String(created.body.position) } });
  for (let i = 0; tenant.body.status !== 'active' && i < 300; i++) tenant = await query('GET', `/api/tenants/${created.body.id}`, { token });

  // Started as npm start, compose and the Dockerfile start it, with the same V8 flags.
  const server = spawn(process.execPath, ['--max-semi-space-size=4', 'command-api/server.ts'], {
    env: { ...process.env, ...ctx.env, COMMAND_API_PORT: '0', RELAY_ENABLED: 'false', LOG_LEVEL: 'info', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    server.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (line) => {
      const match = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    server.on('exit', (code) => reject(new Error(`command API exited with ${code}`)));
  });

  const boundary = 'ledgerline-memory-test';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = randomBytes(1024 * 1024);
  const upload = (size: number, hash = createHash('sha256')) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/api/tenants/${created.body.id}/documents`,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(head.length + size + tail.length),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        let ok = sent > 0 || req.write(head);
        while (ok && sent < size) {
          const piece = size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
          hash.update(piece);
          sent += piece.length;
          ok = req.write(piece);
        }
        if (sent >= size) req.end(tail);
        else req.once('drain', pump);
      };
      pump();
    });

  // Warm-up: the first upload loads the S3 multipart code paths; measure growth after it.
  t.equal((await upload(12 * 1024 * 1024)).status, 201);
  chunk[0] = (chunk[0]! + 1) % 256; // different bytes, so the big upload is not a duplicate
  const expected = createHash('sha256');
  const baseline = await rssBytes(server.pid!);
  let peak = baseline;
  let breakdown = '';
  const sampler = setInterval(() => {
    void rssBytes(server.pid!)
      .then(async (rss) => {
        if (rss <= peak) return;
        peak = rss;
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        breakdown = metrics
          .split('\n')
          .filter((l) => /nodejs_|resident/.test(l) && !l.startsWith('#'))
          .join('; ');
      })
      .catch(() => {});
  }, 50);
  const started = performance.now();
  const answer = await upload(SIZE, expected);
  t.comment(`uploaded ${SIZE / 2 ** 20} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  clearInterval(sampler);
  t.equal(answer.status, 201, answer.body);
  const body = JSON.parse(answer.body) as { sha256: string; size: number };
  t.equal(body.size, SIZE);
  t.equal(body.sha256, expected.digest('hex'), 'the hash computed while streaming matches the bytes sent');
  const growth = peak - baseline;
  t.comment(`RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
  t.comment(`at peak: ${breakdown}`);
  t.ok(growth < 64 * 2 ** 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB (< 64 MiB)`);
});
