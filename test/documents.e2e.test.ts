// Documents after upload, against real Postgres, Kafka and S3: download (bytes, headers, Range),
// pre-signed URLs (refused by MinIO when tampered or expired, audited), list paging and filters,
// RBAC, cross-tenant isolation on every route, and deletion of the object with the last document.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import {
  startDocumentSystem,
  tenantWith,
  upload,
  uploadOk,
  listKeys,
  objectExists,
  eventsOf,
  tenantQuery,
  after,
  eventually,
  sha256,
  PDF,
} from './support/document-helpers.ts';
import { contentDisposition } from '../query-api/documents/download-headers.ts';

const s = await startDocumentSystem(t);
const { ctx, system } = s;
const a = await tenantWith(s, 'doca', ['user', 'user', 'viewer']);
const b = await tenantWith(s, 'docb');
const [alice, bob, viewer] = a.members as [typeof a.admin, typeof a.admin, typeof a.admin];
const q = s.id.query;
const c = s.id.command;
const base = `/api/tenants/${a.tenantId}/documents`;

const data = Buffer.concat([PDF('download me'), randomBytes(4096)]);
const doc = await uploadOk(s, alice.token, a.tenantId, { data, filename: 'we"ird\tname\u0007 – ünïcode.pdf', fields: { title: 'Download' } });

t.test('download equals the uploaded bytes, with headers and Range', async (t) => {
  const dl = await system.query.inject({
    method: 'GET',
    url: `${base}/${doc.id}/download`,
    headers: { authorization: `Bearer ${viewer.token}`, ...after(doc.position) },
  });
  t.equal(dl.statusCode, 200);
  t.equal(sha256(dl.rawPayload), sha256(data), 'sha256 of the download equals the upload');
  t.equal(dl.headers['content-type'], 'application/pdf');
  t.equal(dl.headers['content-length'], String(data.length));
  const disposition = String(dl.headers['content-disposition']);
  t.match(disposition, /^attachment; filename="[^"\r\n]*"; filename\*=UTF-8''\S+$/, 'quotes and newlines cannot break out');
  t.notMatch(disposition, /[\r\n]/);
  t.notMatch(disposition, /[^\x20-\x7e]/, 'ascii only on the wire');
  const meta = await q('GET', `${base}/${doc.id}`, { token: alice.token });
  t.notMatch(meta.body.filename, /["\r\n]/, 'stored filename has no quotes or control characters');
  t.match(meta.body.filename, /ünïcode\.pdf$/, 'unicode kept');
  t.equal(decodeURIComponent(disposition.split("filename*=UTF-8''")[1]!), meta.body.filename, 'filename* carries the unicode name');
  // CR/LF cannot reach the server inside a multipart header, so the header builder is checked directly.
  const crlf = contentDisposition('a"b\r\nSet-Cookie: x=1; ü.pdf');
  t.notMatch(crlf, /[\r\n]/, 'no header injection');
  t.match(crlf, /^attachment; filename="[^"]*"; filename\*=UTF-8''[^\s;"]+$/);
  const range = await system.query.inject({
    method: 'GET',
    url: `${base}/${doc.id}/download`,
    headers: { authorization: `Bearer ${alice.token}`, range: 'bytes=2-5' },
  });
  t.equal(range.statusCode, 206);
  t.same(range.rawPayload, data.subarray(2, 6));
  t.equal(range.headers['content-range'], `bytes 2-5/${data.length}`);
  t.equal(range.headers['content-length'], '4');
});

t.test('pre-signed URLs: expiry bounds, outside fetch, tampering and expiry refused by MinIO, audited', async (t) => {
  const url = `${base}/${doc.id}/download-url`;
  const issued = await q('GET', url, { token: viewer.token });
  t.equal(issued.status, 200, JSON.stringify(issued.body));
  t.equal(issued.body.expiresIn, 3600);
  t.ok(Math.abs(Date.parse(issued.body.expiresAt) - Date.now() - 3600_000) < 60_000);
  for (const bad of ['0', '86401']) t.equal((await q('GET', `${url}?expires_in=${bad}`, { token: alice.token })).status, 400, `expires_in=${bad}`);
  const outside = await fetch(issued.body.url);
  t.equal(outside.status, 200);
  t.equal(sha256(Buffer.from(await outside.arrayBuffer())), sha256(data));
  const signed = new URL(issued.body.url);
  const signature = signed.searchParams.get('X-Amz-Signature')!;
  signed.searchParams.set('X-Amz-Signature', `${signature[0] === '0' ? '1' : '0'}${signature.slice(1)}`);
  t.equal((await fetch(signed)).status, 403, 'tampered signature refused by MinIO');
  const short = await q('GET', `${url}?expires_in=1`, { token: alice.token });
  t.equal(short.status, 200);
  await new Promise((r) => setTimeout(r, 2100));
  t.equal((await fetch(short.body.url)).status, 403, 'expired URL refused by MinIO');
  const events = await eventsOf(ctx, 'DownloadUrlIssued');
  t.equal(events.length, 2, 'one event per issued URL');
  t.same(
    events.map((e) => [e.data.documentId, e.data.issuedTo, e.data.expiresAt]),
    [
      [doc.id, viewer.userId, issued.body.expiresAt],
      [doc.id, alice.userId, short.body.expiresAt],
    ],
    'who, which document, until when',
  );
  const lastPosition = Math.max(...events.map((e) => e.global_position));
  const audit = await q('GET', `/api/tenants/${a.tenantId}/audit?limit=200`, { token: a.admin.token, headers: after(lastPosition) });
  t.equal(audit.status, 200);
  t.equal(audit.body.items.filter((i: any) => i.type === 'DownloadUrlIssued').length, 2, 'both in the audit trail');
});

t.test('list: cursor paging, stable under inserts, filters and sort', async (t) => {
  const owner = await tenantWith(s, 'list', ['user']);
  const [member] = owner.members as [typeof a.admin];
  const titles = ['delta', 'Alpha', 'echo', 'charlie', 'bravo'];
  let position = 0;
  const ids: string[] = [];
  for (const [i, title] of titles.entries()) {
    const who = i === 1 ? member : owner.admin;
    const up = await uploadOk(s, who.token, owner.tenantId, { data: Buffer.from(`list ${title}`), fields: { title, tags: i % 2 ? 'odd' : 'even' } });
    ids.push(up.id);
    position = up.position;
  }
  const listUrl = `/api/tenants/${owner.tenantId}/documents`;
  const seen: string[] = [];
  let cursor: string | null = null;
  let inserted = false;
  for (let page = 0; page < 10; page++) {
    const r = await q('GET', `${listUrl}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: owner.admin.token, headers: after(position) });
    t.equal(r.status, 200);
    seen.push(...r.body.items.map((d: any) => d.id));
    cursor = r.body.nextCursor;
    if (!inserted) {
      position = (await uploadOk(s, owner.admin.token, owner.tenantId, { data: Buffer.from('late'), fields: { title: 'late' } })).position;
      inserted = true;
    }
    if (!cursor) break;
  }
  const original = seen.filter((id) => ids.includes(id));
  t.equal(original.length, 5, 'every original document listed');
  t.equal(new Set(original).size, 5, 'no duplicates');
  t.equal(new Set(seen).size, seen.length, 'no id seen twice');
  const tag = await q('GET', `${listUrl}?tag=odd&limit=100`, { token: owner.admin.token, headers: after(position) });
  t.same(tag.body.items.map((d: any) => d.title).sort(), ['Alpha', 'charlie']);
  const title = await q('GET', `${listUrl}?title=HARL`, { token: owner.admin.token });
  t.same(
    title.body.items.map((d: any) => d.title),
    ['charlie'],
  );
  const byOwner = await q('GET', `${listUrl}?owner=${member.userId}`, { token: owner.admin.token });
  t.same(
    byOwner.body.items.map((d: any) => d.title),
    ['Alpha'],
  );
  const sorted = await q('GET', `${listUrl}?sort=title&order=asc&limit=100`, { token: owner.admin.token });
  t.same(
    sorted.body.items.map((d: any) => d.title),
    ['Alpha', 'bravo', 'charlie', 'delta', 'echo', 'late'],
  );
});

t.test('RBAC: viewer reads only; users own their documents; admin deletes any', async (t) => {
  const pdf = Buffer.from('rbac');
  const mine = await uploadOk(s, alice.token, a.tenantId, { data: pdf, fields: { title: 'alice' } });
  const v = await upload(s, viewer.token, a.tenantId, { data: pdf });
  t.equal(v.status, 403, 'viewer cannot upload');
  t.equal((await q('GET', `${base}?limit=100`, { token: viewer.token, headers: after(mine.position) })).status, 200);
  t.equal((await q('GET', `${base}/${mine.id}`, { token: viewer.token })).status, 200);
  t.equal(
    (await system.query.inject({ method: 'GET', url: `${base}/${mine.id}/download`, headers: { authorization: `Bearer ${viewer.token}` } })).statusCode,
    200,
  );
  t.equal((await c('PUT', `${base}/${mine.id}`, { token: viewer.token, body: { title: 'x' } })).status, 403, 'viewer cannot update');
  t.equal((await c('DELETE', `${base}/${mine.id}`, { token: viewer.token })).status, 403, 'viewer cannot delete');
  const other = await c('PUT', `${base}/${mine.id}`, { token: bob.token, body: { title: 'bob was here' } });
  t.equal(other.status, 403);
  t.equal(other.body.error.code, 'NOT_OWNER');
  const otherDelete = await c('DELETE', `${base}/${mine.id}`, { token: bob.token });
  t.equal(otherDelete.body.error.code, 'NOT_OWNER');
  const stale = await c('PUT', `${base}/${mine.id}`, { token: alice.token, body: { title: 'stale' }, headers: { 'if-match': `"${mine.version + 5}"` } });
  t.equal(stale.status, 409, 'stale If-Match');
  const renamed = await c('PUT', `${base}/${mine.id}`, { token: alice.token, body: { title: 'renamed' }, headers: { 'if-match': `"${mine.version}"` } });
  t.equal(renamed.status, 200, JSON.stringify(renamed.body));
  const read = await q('GET', `${base}/${mine.id}`, { token: alice.token, headers: after(renamed.body.position) });
  t.equal(read.body.title, 'renamed');
  t.equal(
    (await c('PUT', `${base}/${mine.id}`, { token: alice.token, body: { title: 'x' }, headers: { 'if-match': `"${mine.version}"` } })).status,
    409,
    'old version now stale',
  );
  t.equal((await c('DELETE', `${base}/${mine.id}`, { token: alice.token })).status, 200, 'owner deletes own');
  const bobs = await uploadOk(s, bob.token, a.tenantId, { data: Buffer.from('bob') });
  t.equal((await c('DELETE', `${base}/${bobs.id}`, { token: a.admin.token })).status, 200, 'admin deletes any');
});

t.test("a member of tenant A gets 404 for tenant B's document on every route", async (t) => {
  const theirs = await uploadOk(s, b.admin.token, b.tenantId, { data: Buffer.from('secret of B') });
  const cross = `${base}/${theirs.id}`;
  const answers = {
    get: await q('GET', cross, { token: a.admin.token, headers: after(theirs.position) }),
    download: await q('GET', `${cross}/download`, { token: a.admin.token }),
    url: await q('GET', `${cross}/download-url`, { token: a.admin.token }),
    put: await c('PUT', cross, { token: a.admin.token, body: { title: 'mine' } }),
    delete: await c('DELETE', cross, { token: a.admin.token }),
  };
  for (const [route, answer] of Object.entries(answers)) t.equal(answer.status, 404, `${route}: ${JSON.stringify(answer.body)}`);
  const listB = await q('GET', `/api/tenants/${b.tenantId}/documents`, { token: a.admin.token });
  t.equal(listB.status, 404, "tenant B's list");
  const stillThere = await q('GET', `/api/tenants/${b.tenantId}/documents/${theirs.id}`, { token: b.admin.token, headers: after(theirs.position) });
  t.equal(stillThere.status, 200, 'still there for its own tenant');
  t.not(stillThere.body.title, 'mine', 'unchanged');
  t.equal((await eventsOf(ctx, 'DownloadUrlIssued')).filter((e) => e.tenant_id === b.tenantId).length, 0, 'no URL issued for B');
});

t.test('delete: the last document of a file removes its object; a shared file keeps it', async (t) => {
  const shared = Buffer.from(`shared ${randomBytes(6).toString('hex')}`);
  const one = await uploadOk(s, a.admin.token, a.tenantId, { data: shared });
  const two = await uploadOk(s, a.admin.token, a.tenantId, { data: shared });
  const [row] = await tenantQuery(ctx, a.tenantId, 'select s3_key from files where file_id = $1', [one.fileId]).then(async (r) =>
    r.length
      ? r
      : eventually(async () => {
          const rows = await tenantQuery(ctx, a.tenantId, 'select s3_key from files where file_id = $1', [one.fileId]);
          return rows.length ? rows : undefined;
        }),
  );
  const key = row.s3_key as string;
  t.equal((await c('DELETE', `${base}/${one.id}`, { token: a.admin.token })).status, 200);
  t.same(await eventsOf(ctx, 'FileDeletionScheduled', 'fileId', one.fileId), [], 'not scheduled while a document uses it');
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(await objectExists(ctx, key), 'object kept for the remaining document');
  const last = await c('DELETE', `${base}/${two.id}`, { token: a.admin.token });
  t.equal(last.status, 200);
  const scheduled = await eventsOf(ctx, 'FileDeletionScheduled', 'fileId', one.fileId);
  t.equal(scheduled.length, 1, 'FileDeletionScheduled');
  const deleted = await eventually(
    async () => {
      const events = await eventsOf(ctx, 'FileObjectDeleted', 'fileId', one.fileId);
      return events.length ? events : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  t.ok(deleted[0]!.global_position > scheduled[0]!.global_position, 'FileObjectDeleted after FileDeletionScheduled');
  await eventually(async () => ((await objectExists(ctx, key)) ? undefined : true), { timeoutMs: 10_000, intervalMs: 100 });
  t.notOk((await listKeys(ctx)).includes(key), 'object gone');
  const gone = await q('GET', `${base}/${two.id}`, { token: a.admin.token, headers: after(last.body.position) });
  t.equal(gone.status, 404);
});
