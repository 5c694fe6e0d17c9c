// Abuse limits (issue 11): credential routes rate-limited per IP and per account across two
// command API instances (the count lives in PostgreSQL), a per-user tenant quota, caps on
// concurrent uploads per user and per process, and a stalled upload that gives back its S3
// multipart upload instead of holding it forever.
import t from 'tap';
import net from 'node:net';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createServices } from '../core/adapters/services.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { buildCommandApi } from '../command-api/app.ts';
import type { App } from '../core/adapters/http.ts';
import { after, eventually, listKeys, PDF, startDocumentSystem, tenantDatabase, tenantWith, upload } from './support/document-helpers.ts';

const STALL_MS = 3000;
const s = await startDocumentSystem(t, {
  AUTH_RATE_LIMIT_PER_IP: '10',
  AUTH_RATE_LIMIT_PER_ACCOUNT: '3',
  AUTH_RATE_LIMIT_WINDOW_SECONDS: '60',
  TENANTS_PER_USER: '2',
  UPLOADS_PER_USER: '1',
  UPLOADS_PER_PROCESS: '2',
  UPLOAD_STALL_TIMEOUT_MS: String(STALL_MS),
});
const { ctx, system, id } = s;
// A second command API instance with its own services (its own pool): what a replica behind a load balancer is.
const replicaServices = await createServices(loadConfig({ ...process.env, ...ctx.env }), ctx.logger);
const replica = await buildCommandApi(replicaServices);
t.teardown(async () => {
  await replica.close();
  await replicaServices.close();
});

const inject = (app: App, url: string, body: unknown, remoteAddress: string, token?: string) =>
  app.inject({
    method: 'POST',
    url,
    payload: body as object,
    remoteAddress,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

t.test('login, register, refresh and password change are limited per account and per IP, across instances', async (t) => {
  const victim = await id.registerAndLogin('limited@example.com');
  // Per account: every attempt from another address, alternating between the two instances.
  const statuses: number[] = [];
  let refused;
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = await inject(
      attempt % 2 ? replica : system.command,
      '/api/auth/login',
      { email: 'LIMITED@example.com', password: 'wrong password' },
      `10.0.1.${attempt}`,
    );
    statuses.push(answer.statusCode);
    if (answer.statusCode === 429) refused ??= answer;
  }
  t.same(statuses, [401, 401, 429, 429, 429], "one login before (the helper's), two wrong ones, then 429 whichever instance answers");
  t.equal(refused?.json().error.code, 'RATE_LIMITED');
  const retryAfter = Number(refused?.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter} s`);
  const right = await inject(replica, '/api/auth/login', { email: victim.email, password: victim.password }, '10.0.1.99');
  t.equal(right.statusCode, 429, 'the right password is refused too until the window ends (no guessing through it)');

  // Per IP: different accounts from one address.
  const fromOneIp: number[] = [];
  for (let n = 0; n < 12; n++) {
    fromOneIp.push(
      (await inject(n % 2 ? replica : system.command, '/api/auth/login', { email: `someone${n}@example.com`, password: 'wrong password' }, '10.0.2.1'))
        .statusCode,
    );
  }
  t.same(fromOneIp, [...Array(10).fill(401), 429, 429], 'ten attempts per address, then 429');
  t.equal(
    (await inject(system.command, '/api/auth/login', { email: 'someone0@example.com', password: 'wrong password' }, '10.0.2.2')).statusCode,
    401,
    'another address is not affected',
  );

  const registers: number[] = [];
  for (let n = 0; n < 4; n++) {
    registers.push(
      (
        await inject(
          n % 2 ? replica : system.command,
          '/api/auth/register',
          { email: 'squat@example.com', password: 'long enough pw', displayName: 'S' },
          `10.0.3.${n}`,
        )
      ).statusCode,
    );
  }
  t.same(registers, [201, 409, 409, 429], 'register: per account too');
  const refreshes: number[] = [];
  for (let n = 0; n < 4; n++)
    refreshes.push((await inject(n % 2 ? replica : system.command, '/api/auth/refresh', { refresh_token: 'stolen-guess' }, `10.0.4.${n}`)).statusCode);
  t.same(refreshes, [401, 401, 401, 429], 'refresh: per token');
  const changes: number[] = [];
  for (let n = 0; n < 4; n++) {
    changes.push(
      (
        await inject(
          n % 2 ? replica : system.command,
          '/api/auth/password',
          { currentPassword: 'not it at all', newPassword: 'a new password 1' },
          `10.0.5.${n}`,
          victim.token,
        )
      ).statusCode,
    );
  }
  t.same(changes, [401, 401, 401, 429], 'password change: per account');
});

t.test('a user can create at most TENANTS_PER_USER live tenants', async (t) => {
  const owner = await id.registerAndLogin('quota@example.com');
  const first = await id.createTenant(owner.token, 'quota-one');
  const second = await id.command('POST', '/api/tenants', { token: owner.token, body: { name: 'Two', slug: 'quota-two' } });
  t.equal(second.status, 202);
  const third = await id.command('POST', '/api/tenants', { token: owner.token, body: { name: 'Three', slug: 'quota-three' } });
  t.equal(third.status, 403, 'the third is refused');
  t.equal(third.body.error.code, 'TENANT_QUOTA_EXCEEDED');
  const other = await id.registerAndLogin('quota-other@example.com');
  t.equal(
    (await id.command('POST', '/api/tenants', { token: other.token, body: { name: 'Theirs', slug: 'quota-theirs' } })).status,
    202,
    'the quota is per user',
  );
  const deleted = await id.command('DELETE', `/api/tenants/${first.tenantId}`, { token: owner.token });
  t.equal(deleted.status, 202);
  const again = await id.command('POST', '/api/tenants', { token: owner.token, body: { name: 'Three', slug: 'quota-three' } });
  t.equal(again.status, 202, 'a deleted tenant frees its place');
});

/** Starts an upload over a real socket, sends `bytes` of the file and then nothing more. */
function stalledUpload(port: number, token: string, tenantId: string, bytes: number) {
  const boundary = 'stalledboundary1234';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const total = head.length + bytes * 2 + 100;
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk.toString();
  });
  socket.on('error', () => {});
  socket.write(
    `POST /api/tenants/${tenantId}/documents HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n\r\n`,
  );
  socket.write(head);
  socket.write(Buffer.alloc(bytes, 7));
  return { answer: () => answer, destroy: () => socket.destroy() };
}

// MinIO lists multipart uploads only for an exact key, so the keys the command API opens uploads
// for are noted as its S3 client sends them (observed, not mocked: the requests go to MinIO).
const multipartKeys: string[] = [];
system.services.s3.internal.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as { Key?: string };
    if (context.commandName === 'CreateMultipartUploadCommand' && input.Key) multipartKeys.push(input.Key);
    return next(args);
  },
  { step: 'initialize', name: 'note-multipart-keys' },
);
async function openMultipartUploads(): Promise<string[]> {
  const open: string[] = [];
  for (const key of multipartKeys) {
    const listed = await ctx.s3.internal.send(new ListMultipartUploadsCommand({ Bucket: ctx.s3.bucket, Prefix: key }));
    open.push(...(listed.Uploads ?? []).flatMap((u) => (u.Key === undefined ? [] : [u.Key])));
  }
  return open;
}

t.test('concurrent uploads are capped per user and per process; a stalled upload is aborted and leaves nothing in S3', async (t) => {
  const { admin, tenantId, members } = await tenantWith(s, 'uploads-capped', ['user', 'user']);
  const [bea, cid] = members as [typeof admin, typeof admin];
  await system.command.listen({ port: 0, host: '127.0.0.1' });
  const port = (system.command.server.address() as net.AddressInfo).port;

  // 6 MiB: past the first 5 MiB part, so an S3 multipart upload is open when the client stalls.
  const held = [stalledUpload(port, admin.token, tenantId, 6 * 1024 * 1024), stalledUpload(port, bea.token, tenantId, 6 * 1024 * 1024)];
  await eventually(async () => ((await openMultipartUploads()).length === 2 ? true : undefined), { timeoutMs: 15_000 });
  t.pass('two stalled uploads hold an S3 multipart upload each');

  const mine = await upload(s, admin.token, tenantId, { data: PDF('second'), filename: 'second.pdf' });
  t.equal(mine.status, 429, 'a second upload of the same user waits its turn');
  t.equal(mine.body.error.code, 'TOO_MANY_UPLOADS');
  const busy = await upload(s, cid.token, tenantId, { data: PDF('third'), filename: 'third.pdf' });
  t.equal(busy.status, 503, 'another user finds the process full');
  t.equal(busy.body.error.code, 'SERVER_BUSY');

  for (const h of held) await eventually(async () => (/^HTTP\/1\.1 408/.test(h.answer()) ? true : undefined), { timeoutMs: STALL_MS + 15_000 });
  t.pass('the server answered each stalled upload');
  t.match(held[0]!.answer(), /UPLOAD_STALLED/, 'with 408 UPLOAD_STALLED');
  for (const h of held) h.destroy();
  t.equal(multipartKeys.length, 2, 'two multipart uploads were opened (control)');
  t.same(
    await eventually(async () => ((await openMultipartUploads()).length === 0 ? [] : undefined), { timeoutMs: 10_000 }),
    [],
    'no S3 multipart upload is left open',
  );
  const database = await tenantDatabase(ctx, tenantId);
  t.same(await listKeys(ctx, `tenants/${database}/`), [], 'and no object was stored');

  const afterwards = await upload(s, admin.token, tenantId, { data: PDF('after'), filename: 'after.pdf' });
  t.equal(afterwards.status, 201, 'the slots were given back');
  const list = await id.query('GET', `/api/tenants/${tenantId}/documents`, { token: admin.token, headers: after(afterwards.body.position) });
  t.same(
    list.body.items.map((d: { filename: string }) => d.filename),
    ['after.pdf'],
    'only the finished upload is a document',
  );
});
