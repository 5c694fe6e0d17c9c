// Upload rules against real Postgres, Kafka and S3: content type from magic bytes, 4xx codes for
// bad bodies, the size limit (413, nothing left in S3), per-tenant deduplication (also under 20
// concurrent uploads), the S3 key scheme, and an upload cut off mid-stream leaving nothing behind.
import t from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  startDocumentSystem,
  tenantWith,
  upload,
  uploadOk,
  listKeys,
  tenantQuery,
  tenantDatabase,
  eventsOf,
  mainQuery,
  after,
  eventually,
  md5,
  sha256,
  PDF,
} from './support/document-helpers.ts';

const s = await startDocumentSystem(t);
const { ctx, system } = s;
const a = await tenantWith(s, 'upa');
const b = await tenantWith(s, 'upb');
const filesKeys = async () => (await listKeys(ctx)).filter((k) => k.includes('/files/'));

t.test('PDF bytes sent as image/png are stored as application/pdf, with the fields', async (t) => {
  const data = PDF('magic');
  const up = await uploadOk(s, a.admin.token, a.tenantId, {
    data,
    filename: 'report.png',
    contentType: 'image/png',
    fields: { title: 'Quarterly report', description: 'Numbers for Q3', tags: 'finance, q3' },
  });
  t.equal(up.contentType, 'application/pdf');
  t.equal(up.md5, md5(data));
  t.equal(up.sha256, sha256(data));
  t.equal(up.size, data.length);
  const doc = await s.id.query('GET', `/api/tenants/${a.tenantId}/documents/${up.id}`, { token: a.admin.token, headers: after(up.position) });
  t.equal(doc.status, 200);
  t.equal(doc.body.contentType, 'application/pdf');
  t.equal(doc.body.title, 'Quarterly report');
  t.equal(doc.body.description, 'Numbers for Q3');
  t.same(doc.body.tags, ['finance', 'q3']);
  t.equal(doc.body.ownerId, a.admin.userId);
});

t.test('bad bodies get clear 4xx codes', async (t) => {
  const empty = await upload(s, a.admin.token, a.tenantId, { data: Buffer.alloc(0), filename: 'empty.txt' });
  t.equal(empty.status, 400);
  t.equal(empty.body.error.code, 'EMPTY_FILE');
  const missing = await upload(s, a.admin.token, a.tenantId, { fields: { title: 'no file' } });
  t.equal(missing.status, 400);
  t.equal(missing.body.error.code, 'MISSING_FILE');
  const two = await upload(s, a.admin.token, a.tenantId, {
    parts: [
      { name: 'file', filename: 'one.txt', data: Buffer.from('one') },
      { name: 'file', filename: 'two.txt', data: Buffer.from('two') },
    ],
  });
  t.equal(two.status, 400);
  t.equal(two.body.error.code, 'TOO_MANY_FILES');
  const json = await s.id.command('POST', `/api/tenants/${a.tenantId}/documents`, { token: a.admin.token, body: { file: 'not multipart' } });
  t.equal(json.status, 415);
  t.equal(json.body.error.code, 'NOT_MULTIPART');
  t.same(
    (await listKeys(ctx)).filter((k) => k.includes('/uploads/')),
    [],
    'no temporary objects left behind',
  );
});

t.test('a file over the limit answers 413 FILE_TOO_LARGE and leaves no object', async (t) => {
  const small = await startDocumentSystem(t, { MAX_UPLOAD_BYTES: '1048576' });
  const tenant = await tenantWith(small, 'small');
  const big = await upload(small, tenant.admin.token, tenant.tenantId, { data: randomBytes(2 * 1024 * 1024), filename: 'big.bin' });
  t.equal(big.status, 413, JSON.stringify(big.body));
  t.equal(big.body.error.code, 'FILE_TOO_LARGE');
  t.same(await listKeys(small.ctx), [], 'nothing under the prefix');
  t.same(await eventsOf(small.ctx, 'FileStored'), [], 'no FileStored');
});

t.test('a declared X-Content-MD5 streams a large file straight to its final key; a wrong or malformed one is refused and leaves nothing', async (t) => {
  const data = randomBytes(12 * 1024 * 1024);
  const h = md5(data);
  const stored = await uploadOk(s, a.admin.token, a.tenantId, { data, filename: 'declared.bin', headers: { 'x-content-md5': h.toUpperCase() } });
  t.equal(stored.md5, h);
  const db = await tenantDatabase(ctx, a.tenantId);
  const key = `${ctx.config.S3_KEY_PREFIX}tenants/${db}/files/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}_${stored.fileId}`;
  t.same(
    (await filesKeys()).filter((k) => k.includes(h)),
    [key],
    'one object, at the sharded key',
  );
  // A multipart object's ETag counts its parts: three 5 MiB parts as streamed, not one 16 MiB copy range.
  const head = await ctx.s3.internal.send(new HeadObjectCommand({ Bucket: ctx.s3.bucket, Key: key }));
  t.match(head.ETag, /-3"$/, `written by the upload itself, no server-side copy (${head.ETag})`);
  t.same(await listKeys(ctx, `tenants/${db}/uploads/`), [], 'no staged object');

  const other = randomBytes(6 * 1024 * 1024);
  const wrong = await upload(s, a.admin.token, a.tenantId, { data: other, filename: 'wrong.bin', headers: { 'x-content-md5': h } });
  t.equal(wrong.status, 400);
  t.equal(wrong.body.error.code, 'CONTENT_MD5_MISMATCH');
  t.same(
    (await filesKeys()).filter((k) => k.includes(h)),
    [key],
    'the mismatched bytes left no object at the declared key',
  );
  t.same(await eventsOf(ctx, 'FileStored', 'md5', md5(other)), [], 'and no file');
  const malformed = await upload(s, a.admin.token, a.tenantId, { data: other, headers: { 'x-content-md5': 'not-an-md5' } });
  t.equal(malformed.status, 400);
  t.equal(malformed.body.error.code, 'INVALID_CONTENT_MD5');
});

t.test('same bytes twice in one tenant: one file, two documents, one object; key scheme', async (t) => {
  const data = Buffer.from(`dedupe ${randomBytes(8).toString('hex')}`);
  const before = (await filesKeys()).length;
  const first = await uploadOk(s, a.admin.token, a.tenantId, { data, filename: 'a.txt' });
  const second = await uploadOk(s, a.admin.token, a.tenantId, { data, filename: 'b.txt' });
  t.equal(second.fileId, first.fileId);
  t.equal(first.deduplicated, false);
  t.equal(second.deduplicated, true);
  t.not(second.id, first.id);
  const db = await tenantDatabase(ctx, a.tenantId);
  const h = md5(data);
  const expected = `${ctx.config.S3_KEY_PREFIX}tenants/${db}/files/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}_${first.fileId}`;
  const keys = (await filesKeys()).filter((k) => k.includes(h));
  t.same(keys, [expected], 'exactly one object, at the sharded key');
  t.equal((await filesKeys()).length, before + 1);
  t.match(expected.slice(ctx.config.S3_KEY_PREFIX.length), /^tenants\/[^/]+\/files\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{32}_[0-9a-f-]{36}$/);
  const list = await s.id.query('GET', `/api/tenants/${a.tenantId}/documents?limit=100`, { token: a.admin.token, headers: after(second.position) });
  t.equal(list.body.items.filter((d: any) => d.fileId === first.fileId).length, 2);
  const files = await tenantQuery(ctx, a.tenantId, 'select s3_key, document_count from files where file_id = $1', [first.fileId]);
  t.same(files, [{ s3_key: expected, document_count: 2 }]);
});

t.test('20 concurrent identical uploads: 1 file, 20 documents, 1 object', async (t) => {
  const data = Buffer.concat([PDF('concurrent'), randomBytes(64 * 1024)]);
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(s, a.admin.token, a.tenantId, { data, filename: `c${i}.pdf` })));
  t.comment(`20 concurrent uploads took ${Math.round(performance.now() - started)} ms`);
  t.same(
    answers.map((r) => r.status),
    Array(20).fill(201),
    JSON.stringify(answers.filter((r) => r.status !== 201).map((r) => r.body)),
  );
  const fileIds = new Set(answers.map((r) => r.body.fileId));
  t.equal(fileIds.size, 1, 'one file id');
  t.equal(new Set(answers.map((r) => r.body.id)).size, 20, '20 document ids');
  t.equal(answers.filter((r) => !r.body.deduplicated).length, 1, 'one upload stored the file');
  const maxPosition = Math.max(...answers.map((r) => r.body.position));
  await s.id.query('GET', `/api/tenants/${a.tenantId}/documents?limit=1`, { token: a.admin.token, headers: after(maxPosition) });
  const files = await tenantQuery(ctx, a.tenantId, 'select file_id, document_count from files where sha256 = $1', [sha256(data)]);
  t.equal(files.length, 1, 'one row in the tenant files table');
  t.equal(files[0]?.document_count, 20);
  const docs = await tenantQuery(ctx, a.tenantId, 'select count(*)::int as n from documents where file_id = $1', [files[0]?.file_id]);
  t.equal(docs[0]?.n, 20);
  t.equal((await listKeys(ctx)).filter((k) => k.includes(md5(data))).length, 1, 'one object');
  t.same(
    (await listKeys(ctx)).filter((k) => k.includes('/uploads/')),
    [],
    'temporary objects cleaned up',
  );
});

t.test('the same bytes in two tenants are two files and two objects', async (t) => {
  const data = Buffer.from(`shared ${randomBytes(8).toString('hex')}`);
  const inA = await uploadOk(s, a.admin.token, a.tenantId, { data });
  const inB = await uploadOk(s, b.admin.token, b.tenantId, { data });
  t.not(inB.fileId, inA.fileId);
  t.equal(inB.deduplicated, false);
  const keys = (await listKeys(ctx)).filter((k) => k.includes(md5(data)));
  t.equal(keys.length, 2);
  const [dbA, dbB] = [await tenantDatabase(ctx, a.tenantId), await tenantDatabase(ctx, b.tenantId)];
  t.ok(keys.some((k) => k.includes(`tenants/${dbA}/`)) && keys.some((k) => k.includes(`tenants/${dbB}/`)), 'one object in each tenant');
  await s.id.query('GET', `/api/tenants/${b.tenantId}/documents?limit=1`, { token: b.admin.token, headers: after(inB.position) });
  const rowsB = await tenantQuery(ctx, b.tenantId, 'select file_id from files where sha256 = $1', [sha256(data)]);
  t.same(
    rowsB.map((r) => r.file_id),
    [inB.fileId],
    "tenant B's database knows only its own file",
  );
});

t.test('an upload cut off mid-stream leaves no file, no document and no object', async (t) => {
  const address = await system.command.listen({ port: 0, host: '127.0.0.1' });
  const { port } = new URL(address);
  const docsBefore = await eventsOf(ctx, 'DocumentCreated');
  const storedBefore = await eventsOf(ctx, 'FileStored');
  const keysBefore = await listKeys(ctx);
  const boundary = '----cutoff';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const half = randomBytes(12 * 1024 * 1024);
  const total = head.length + 2 * half.length + `\r\n--${boundary}--\r\n`.length;
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.write(
    `POST /api/tenants/${a.tenantId}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${a.admin.token}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n\r\n`,
  );
  socket.write(head);
  await new Promise<void>((resolve) => socket.write(half, () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  socket.destroy();
  // Bounded: the server notices the closed socket, aborts the staging upload and deletes it.
  await eventually(async () => ((await listKeys(ctx)).length === keysBefore.length ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
  await new Promise((r) => setTimeout(r, 1000));
  t.same(await listKeys(ctx), keysBefore, 'no new object under the prefix (staging object removed)');
  t.equal((await eventsOf(ctx, 'DocumentCreated')).length, docsBefore.length, 'no new document');
  t.equal((await eventsOf(ctx, 'FileStored')).length, storedBefore.length, 'no FileStored');
  const pending = await mainQuery(ctx, "select count(*)::int as n from events where type = 'DocumentCreated' and data->>'filename' = 'cut.bin'");
  t.equal(pending[0].n, 0);
});
