// Edge inputs (issue 11, findings 13 and 14): crafted list cursors are 400, not 500; filenames
// with bidirectional controls are neutralised; a long filename is cut between characters, never
// inside a surrogate pair; NUL and unpaired surrogates anywhere are 400; and deleting a tenant
// deletes its objects in S3.
import t from 'tap';
import {
  after,
  encodeMultipart,
  eventually,
  listKeys,
  PDF,
  startDocumentSystem,
  tenantDatabase,
  tenantWith,
  upload,
  uploadOk,
} from './support/document-helpers.ts';

const s = await startDocumentSystem(t);
const { ctx } = s;
const { command, query } = s.id;
const { admin, tenantId } = await tenantWith(s, 'edges');
const documents = `/api/tenants/${tenantId}/documents`;
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const uuid = '00000000-0000-4000-8000-000000000000';

t.test('a crafted list cursor is 400 INVALID_CURSOR, never 500', async (t) => {
  const crafted: [string, string, string][] = [
    ['an id that is not a uuid', 'created_at', cursorOf(['2025-01-01T00:00:00.000+00:00', 'not-a-uuid'])],
    ['a value that is not a timestamp', 'created_at', cursorOf(['yesterday', uuid])],
    ['a date that does not exist', 'created_at', cursorOf(['2025-02-30T00:00:00+00:00', uuid])],
    ['a NUL in a title cursor', 'title', cursorOf(['a\u0000b', uuid])],
    ['an unpaired surrogate in a title cursor', 'title', cursorOf(['\ud800', uuid])],
    ['numbers', 'created_at', cursorOf([1, 2])],
    ['not JSON', 'created_at', Buffer.from('{{{').toString('base64url')],
    ['not base64', 'title', '!!!'],
  ];
  for (const [what, sort, cursor] of crafted) {
    const answer = await query('GET', `${documents}?sort=${sort}&cursor=${encodeURIComponent(cursor)}`, { token: admin.token });
    t.equal(answer.status, 400, `${what}: 400`);
    t.equal(answer.body.error?.code, 'INVALID_CURSOR', `${what}: INVALID_CURSOR`);
  }
  const first = await uploadOk(s, admin.token, tenantId, { data: PDF('one'), filename: 'one.pdf', fields: { title: 'One' } });
  await uploadOk(s, admin.token, tenantId, { data: PDF('two'), filename: 'two.pdf', fields: { title: 'Two' } });
  const page = await query('GET', `${documents}?limit=1`, { token: admin.token, headers: after(first.position + 10) });
  const next = await query('GET', `${documents}?limit=1&cursor=${page.body.nextCursor}`, { token: admin.token });
  t.equal(next.status, 200, 'a cursor the API issued still works (control)');
});

t.test('filenames: bidirectional controls neutralised, long names cut between characters', async (t) => {
  const spoof = await uploadOk(s, admin.token, tenantId, { data: PDF('bidi'), filename: 'invoice\u202Efdp.exe', fields: { title: 'Bidi' } });
  const stored = await query('GET', `${documents}/${spoof.id}`, { token: admin.token, headers: after(spoof.position) });
  t.equal(stored.body.filename, 'invoicefdp.exe', 'the right-to-left override is gone: the name shows what it is');
  // Content the tenant has, named instead of sent (X-Content-SHA256): its filename field too.
  const mp = encodeMultipart([
    { name: 'filename', value: 'x\u2066y.pdf' },
    { name: 'title', value: 'Named' },
  ]);
  const named = await s.system.command.inject({
    method: 'POST',
    url: documents,
    payload: mp.body,
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': mp.contentType, 'x-content-sha256': spoof.sha256 },
  });
  t.equal(named.statusCode, 201);
  const namedRead = await query('GET', `${documents}/${named.json().id}`, { token: admin.token, headers: after(named.json().position) });
  t.equal(namedRead.body.filename, 'xy.pdf', 'named content: the isolate control is gone too');

  // 254 ASCII characters, then an emoji (a surrogate pair) across the 255th position.
  const long = `${'a'.repeat(254)}😀😀.pdf`;
  const cut = await upload(s, admin.token, tenantId, { data: PDF('long'), filename: long, fields: { title: 'Long' } });
  t.equal(cut.status, 201, 'a long name with a surrogate pair at the cut uploads');
  const read = await query('GET', `${documents}/${cut.body.id}`, { token: admin.token, headers: after(cut.body.position) });
  t.equal(read.body.filename, `${'a'.repeat(254)}😀`, '255 characters, the emoji whole');
  t.ok(read.body.filename.isWellFormed(), 'no unpaired surrogate');
});

t.test('NUL and unpaired surrogates are 400 in JSON bodies, queries and multipart fields', async (t) => {
  const cases: [string, Promise<{ status: number; body: { error?: { code: string } } }>][] = [
    [
      'register display name with NUL',
      command('POST', '/api/auth/register', { body: { email: 'nul@example.com', password: 'long enough pw', displayName: 'a\u0000b' } }),
    ],
    [
      'register email with a lone surrogate',
      command('POST', '/api/auth/register', { body: { email: 'x\ud800@example.com', password: 'long enough pw', displayName: 'X' } }),
    ],
    ['tenant name with a lone surrogate', command('POST', '/api/tenants', { token: admin.token, body: { name: 'Bad \udc00 name', slug: 'bad-name' } })],
    ['title filter with NUL', query('GET', `${documents}?title=${encodeURIComponent('a\u0000')}`, { token: admin.token })],
    ['multipart title with NUL', upload(s, admin.token, tenantId, { data: PDF('nul'), filename: 'nul.pdf', fields: { title: 'a\u0000b' } })],
  ];
  for (const [what, pending] of cases) {
    const answer = await pending;
    t.equal(answer.status, 400, `${what}: 400`);
    t.ok(answer.body.error?.code, `${what}: with a code (${answer.body.error?.code})`);
  }
});

t.test('deleting a tenant deletes its objects in S3', async (t) => {
  const doomed = await tenantWith(s, 'doomed');
  await uploadOk(s, doomed.admin.token, doomed.tenantId, { data: PDF('doomed one'), filename: 'a.pdf' });
  await uploadOk(s, doomed.admin.token, doomed.tenantId, { data: PDF('doomed two'), filename: 'b.pdf' });
  const database = await tenantDatabase(ctx, doomed.tenantId);
  t.equal((await listKeys(ctx, `tenants/${database}/`)).length, 2, 'two objects stored (control)');
  const kept = (await listKeys(ctx, `tenants/${await tenantDatabase(ctx, tenantId)}/`)).length;
  const deleted = await command('DELETE', `/api/tenants/${doomed.tenantId}`, { token: doomed.admin.token });
  t.equal(deleted.status, 202);
  await eventually(async () => ((await listKeys(ctx, `tenants/${database}/`)).length === 0 ? true : undefined), { timeoutMs: 20_000 });
  t.pass("the deleted tenant's objects are gone");
  t.equal((await listKeys(ctx, `tenants/${await tenantDatabase(ctx, tenantId)}/`)).length, kept, "another tenant's objects stay");
});
