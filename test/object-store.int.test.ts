// How an upload's parts reach S3, against the real MinIO (scripts/infra.sh), in both ways a
// part's bytes can be protected (S3Clients.partIntegrity): signed with its SHA-256, or carrying
// a CRC32 that S3 checks. Either way the object is the bytes sent, and a part changed on its
// way is refused by S3 and leaves nothing behind.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createTestContext } from './support/harness.ts';
import { receiveFile } from '../core/adapters/object-store.ts';
import { createS3Clients, partIntegrityFor, type S3Clients } from '../core/adapters/s3.ts';

const ctx = await createTestContext(t);
const MiB = 1024 * 1024;

/** The content as a socket would hand it over: chunks of odd sizes, at odd offsets. */
function chunked(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 0; at < data.length; n++) {
    const size = 1 + ((n * 7919 + 65_531) % 131_071);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function objectBytes(s3: S3Clients, key: string): Promise<Buffer> {
  const answer = await s3.internal.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

t.test('parts are signed over plain HTTP to another host, and carry a CRC32 over TLS or loopback', async (t) => {
  t.equal(partIntegrityFor('http://minio:9000'), 'signed');
  t.equal(partIntegrityFor('http://10.0.0.7:9000'), 'signed');
  t.equal(partIntegrityFor('https://s3.eu-west-1.amazonaws.com'), 'crc32');
  t.equal(partIntegrityFor('http://127.0.0.1:59000'), 'crc32');
  t.equal(partIntegrityFor('http://localhost:59000'), 'crc32');
  t.equal(partIntegrityFor('http://[::1]:59000'), 'crc32');
  t.equal(ctx.s3.partIntegrity, partIntegrityFor(ctx.config.S3_ENDPOINT), 'the clients follow their endpoint');
});

for (const partIntegrity of ['signed', 'crc32'] as const) {
  const s3: S3Clients = { ...ctx.s3, partIntegrity };

  t.test(`${partIntegrity}: a file of three parts, handed over in odd chunks, is stored byte for byte`, async (t) => {
    const data = randomBytes(12 * MiB + 17);
    const key = `${ctx.config.S3_KEY_PREFIX}object-store/${partIntegrity}/${md5(data)}`;
    const received = await receiveFile(s3, chunked(data), 'db', 30_000, { md5: md5(data), key });
    await received.storeAt(key);
    t.equal(received.md5, md5(data));
    t.equal(received.sha256, sha256(data));
    t.equal(received.size, data.length);
    t.equal(sha256(await objectBytes(s3, key)), sha256(data), 'the object is the bytes sent');
    const head = await s3.internal.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    t.match(head.ETag, /-3"$/, 'three parts');
    if (partIntegrity === 'crc32') t.match(head.ChecksumCRC32, /-3$/, 'S3 keeps the parts’ CRC32s');
    else t.equal(head.ChecksumCRC32, undefined, 'signed parts carry no checksum');
  });

  t.test(`${partIntegrity}: a part changed on its way to S3 is refused, and nothing is left`, async (t) => {
    const data = randomBytes(6 * MiB);
    const key = `${ctx.config.S3_KEY_PREFIX}object-store/${partIntegrity}-changed/${md5(data)}`;
    // After signing and checksumming, one byte of the second part's body flips, as a faulty
    // network or a meddler would.
    const meddled: S3Clients = { ...createS3Clients(ctx.config), partIntegrity };
    let changed = 0;
    meddled.internal.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { body?: unknown };
        if (context.commandName === 'UploadPartCommand' && (args.input as { PartNumber?: number }).PartNumber === 2 && Buffer.isBuffer(request.body)) {
          const copy = Buffer.from(request.body);
          copy[copy.length >> 1]! ^= 0xff;
          request.body = copy;
          changed += 1;
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'flip-a-byte', priority: 'low' },
    );
    t.teardown(() => {
      meddled.internal.destroy();
      meddled.publicSigner.destroy();
    });
    const refused = await receiveFile(meddled, chunked(data), 'db', 30_000, { md5: md5(data), key }).then(
      () => null,
      (err: Error) => err,
    );
    t.match(refused, { statusCode: 502, code: 'STORAGE_REJECTED' }, 'a 502 with a code, not the client cutting off');
    const cause = (refused?.cause as Error | undefined)?.name;
    t.match(
      cause,
      partIntegrity === 'crc32' ? /ChecksumMismatch|BadDigest/ : /SHA256Mismatch|SignatureDoesNotMatch|BadDigest/,
      `S3 refused the part: ${cause}`,
    );
    t.equal(changed, 1, 'the part was changed after it was signed');
    const open = await s3.internal.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: key }));
    t.same(open.Uploads ?? [], [], 'the multipart upload was aborted');
    await t.rejects(s3.internal.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })), 'no object');
  });
}
