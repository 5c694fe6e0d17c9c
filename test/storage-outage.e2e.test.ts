// S3 unavailable during an upload, on a MinIO of the test's own (the shared one must not stop):
// the client gets 503 with a code, no File or Document event is appended, and once S3 is back
// the orphan sweeper removes what the failed upload left (here, its staged object: S3 went away
// after the bytes were staged, so the upload could not delete it either).
import t from 'tap';
import { ownStack } from './support/own-stack.ts';
import { startDocumentSystem, tenantWith, upload, uploadOk, PDF, eventsOf, listKeys, objectExists } from './support/document-helpers.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sweepOrphanObjects } from '../projectors/tenant/orphan-objects.ts';

t.test('an upload while S3 is down answers 503, appends nothing and leaves no object behind', async (t) => {
  const stack = await ownStack(t, ['minio']);
  await stack.start('minio');
  await t.test('against the own MinIO', async (t) => {
    const s = await startDocumentSystem(t, { S3_ENDPOINT: stack.env.S3_ENDPOINT!, S3_PUBLIC_URL: stack.env.S3_PUBLIC_URL! });
    const a = await tenantWith(s, 'storage-outage');
    const kept = await uploadOk(s, a.admin.token, a.tenantId, { data: PDF('stored before the outage'), filename: 'kept.pdf', contentType: 'application/pdf' });
    const eventCounts = async () => ({ files: (await eventsOf(s.ctx, 'FileStored')).length, documents: (await eventsOf(s.ctx, 'DocumentCreated')).length });
    const before = await eventCounts();

    await stack.stop('minio');
    const down = await upload(s, a.admin.token, a.tenantId, { data: PDF('while S3 is down'), filename: 'down.pdf', contentType: 'application/pdf' });
    t.equal(down.status, 503, 'S3 down from the start: 503');
    t.equal(down.body?.error?.code, 'STORAGE_UNAVAILABLE', 'with a code');
    t.same(await eventCounts(), before, 'no File or Document event');
    await stack.start('minio');

    // S3 goes away after the bytes are staged, just before they are copied to their final key
    // (a file larger than one 5 MiB part is staged, then copied; a small one is written once).
    let tripped = false;
    s.system.services.s3.internal.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (context.commandName === 'CreateMultipartUploadCommand' && key.includes('/files/') && !tripped) {
          tripped = true;
          await stack.stop('minio');
        }
        return next(args);
      },
      { step: 'initialize', name: 'stop-s3-before-copy' },
    );
    const large = Buffer.concat([PDF('S3 fails half-way'), Buffer.alloc(6 * 1024 * 1024, 7)]);
    const midway = await upload(s, a.admin.token, a.tenantId, { data: large, filename: 'midway.pdf', contentType: 'application/pdf' });
    t.ok(tripped, 'S3 stopped between staging and copying');
    t.equal(midway.status, 503, 'S3 failing half-way: 503');
    t.equal(midway.body?.error?.code, 'STORAGE_UNAVAILABLE', 'with a code');
    t.same(await eventCounts(), before, 'still no File or Document event');

    await stack.start('minio');
    const staged = await listKeys(s.ctx, `tenants/`).then((keys) => keys.filter((k) => k.includes('/uploads/')));
    t.equal(staged.length, 1, 'the failed upload left its staged object (S3 was gone when it tried to delete it)');
    // A stored copy no event names (the append failed after the copy) is an orphan too.
    const unreferenced = `${s.ctx.config.S3_KEY_PREFIX}tenants/x/files/ab/cd/abcd_orphan`;
    await s.ctx.s3.internal.send(new PutObjectCommand({ Bucket: s.ctx.s3.bucket, Key: unreferenced, Body: 'orphan' }));

    const young = await sweepOrphanObjects({ s3: s.system.services.s3, pool: s.ctx.pool, minAgeMs: 60_000 });
    t.same(
      young,
      { stagedDeleted: 0, unreferencedDeleted: 0, multipartAborted: 0 },
      'objects younger than the minimum age are left alone (an upload may be in flight)',
    );
    const swept = await sweepOrphanObjects({ s3: s.system.services.s3, pool: s.ctx.pool, minAgeMs: 0, now: new Date(Date.now() + 1000) });
    t.equal(swept.stagedDeleted, 1, 'the sweeper removes the staged object');
    t.equal(swept.unreferencedDeleted, 1, 'and the unreferenced copy');
    const left = await listKeys(s.ctx, 'tenants/');
    t.same(left, [(await eventsOf(s.ctx, 'FileStored'))[0]!.data.s3Key], 'only the stored file of the acknowledged upload is left');
    t.ok(await objectExists(s.ctx, left[0]!), 'and it is intact');
    const download = await s.system.query.inject({
      method: 'GET',
      url: `/api/tenants/${a.tenantId}/documents/${kept.id}/download`,
      headers: { authorization: `Bearer ${a.admin.token}` },
    });
    t.equal(download.statusCode, 200, 'the document uploaded before the outage still downloads');
  });
});
