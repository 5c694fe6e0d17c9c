import t from 'tap';
import { createHash } from 'node:crypto';
import { createTestContext } from './support/harness.ts';
import { startSystem, client } from './support/system.ts';
import { multipartBody } from './support/multipart.ts';

const ctx = await createTestContext(t);
const system = await startSystem(t, ctx);
const command = client(system.command);
const query = client(system.query);

t.test('upload, dedupe, list, download, pre-signed URL', async (t) => {
  const reg = await command('POST', '/api/auth/register', { body: { email: 'u@example.com', password: 'password123', displayName: 'U' } });
  const token = (await command('POST', '/api/auth/login', { body: { email: 'u@example.com', password: 'password123' } })).body.access_token;
  t.ok(reg.body.id);
  const created = await command('POST', '/api/tenants', { token, body: { name: 'Docs', slug: 'docs-team' } });
  const tenantId = created.body.id;
  for (let i = 0; i < 100; i++) {
    const r = await query('GET', `/api/tenants/${tenantId}`, { token, headers: { 'x-min-position': String(created.body.position) } });
    if (r.body.status === 'active') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const data = Buffer.from('%PDF-1.4 hello world');
  const mp = multipartBody([
    { name: 'title', value: 'Hello' },
    { name: 'file', filename: 'hello.pdf', contentType: 'image/png', data },
  ]);
  const up = await system.command.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/documents`,
    headers: { authorization: `Bearer ${token}`, 'content-type': mp.contentType },
    payload: mp.body,
  });
  t.equal(up.statusCode, 201, up.body);
  const upBody = JSON.parse(up.body);
  t.equal(upBody.contentType, 'application/pdf');
  t.equal(upBody.md5, createHash('md5').update(data).digest('hex'));
  const mp2 = multipartBody([{ name: 'file', filename: 'again.pdf', data }]);
  const up2 = await system.command.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/documents`,
    headers: { authorization: `Bearer ${token}`, 'content-type': mp2.contentType },
    payload: mp2.body,
  });
  const up2Body = JSON.parse(up2.body);
  t.equal(up2Body.fileId, upBody.fileId);
  t.equal(up2Body.deduplicated, true);
  const list = await query('GET', `/api/tenants/${tenantId}/documents`, { token, headers: { 'x-min-position': String(up2Body.position) } });
  t.equal(list.status, 200, JSON.stringify(list.body));
  t.equal(list.body.items.length, 2);
  const dl = await system.query.inject({
    method: 'GET',
    url: `/api/tenants/${tenantId}/documents/${upBody.id}/download`,
    headers: { authorization: `Bearer ${token}` },
  });
  t.equal(dl.statusCode, 200);
  t.same(dl.rawPayload, data);
  const urlRes = await query('GET', `/api/tenants/${tenantId}/documents/${upBody.id}/download-url?expires_in=60`, { token });
  t.equal(urlRes.status, 200, JSON.stringify(urlRes.body));
  const fetched = await fetch(urlRes.body.url);
  t.equal(fetched.status, 200);
  t.same(Buffer.from(await fetched.arrayBuffer()), data);

  const upload = (key: string, data: Buffer) => {
    const body = multipartBody([{ name: 'file', filename: 'same.txt', data }]);
    return system.command.inject({
      method: 'POST',
      url: `/api/tenants/${tenantId}/documents`,
      headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType, 'idempotency-key': key },
      payload: body.body,
    });
  };
  const first = await upload('upload-1', Buffer.from('idempotent bytes'));
  const again = await upload('upload-1', Buffer.from('idempotent bytes'));
  t.equal(again.statusCode, 201);
  t.equal(again.json().id, first.json().id, 'the same key and bytes answer the first upload again');
  t.equal(again.headers['idempotent-replayed'], 'true');
  const other = await upload('upload-1', Buffer.from('other bytes'));
  t.equal(other.statusCode, 422, 'the same key with other bytes is refused');
  t.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
  const listed = await query('GET', `/api/tenants/${tenantId}/documents?title=same`, { token, headers: { 'x-min-position': String(first.json().position) } });
  t.equal(listed.body.items.length, 1, 'one document for the repeated upload');

  // Content the tenant already has can be named by its SHA-256 instead of sent again.
  const sha256 = createHash('sha256').update(data).digest('hex');
  const byReference = multipartBody([
    { name: 'filename', value: 'copy.pdf' },
    { name: 'title', value: 'By reference' },
  ]);
  const referenced = await system.command.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/documents`,
    headers: { authorization: `Bearer ${token}`, 'content-type': byReference.contentType, 'x-content-sha256': sha256 },
    payload: byReference.body,
  });
  t.equal(referenced.statusCode, 201, referenced.body);
  t.equal(referenced.json().fileId, upBody.fileId, 'the document uses the stored file');
  t.equal(referenced.json().contentType, 'application/pdf');
  const unknownContent = await system.command.inject({
    method: 'POST',
    url: `/api/tenants/${tenantId}/documents`,
    headers: { authorization: `Bearer ${token}`, 'content-type': byReference.contentType, 'x-content-sha256': 'a'.repeat(64) },
    payload: byReference.body,
  });
  t.equal(unknownContent.statusCode, 409);
  t.equal(unknownContent.json().error.code, 'CONTENT_NOT_FOUND');
  const copy = await system.query.inject({
    method: 'GET',
    url: `/api/tenants/${tenantId}/documents/${referenced.json().id}/download`,
    headers: { authorization: `Bearer ${token}`, 'x-min-position': String(referenced.json().position) },
  });
  t.same(copy.rawPayload, data, 'its download is the stored bytes');
  t.match(copy.headers['content-disposition'], /copy\.pdf/);
});
