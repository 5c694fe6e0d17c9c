import { createHash, randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { S3Clients } from '../../platform/s3.ts';
import { httpError } from '../../platform/http.ts';

export type StagedUpload = { tempKey: string; md5: string; sha256: string; size: number; head: Buffer };

/**
 * Streams a part to a temporary S3 object while computing MD5 and SHA-256 in the same pass.
 * Memory stays bounded by the multipart queue (2 parts of 8 MiB), whatever the file's size.
 * Exceeding `maxBytes` aborts at once: nothing is left behind and the caller answers 413.
 */
export async function stageUpload(s3: S3Clients, stream: Readable & { truncated?: boolean }, tempKey: string): Promise<StagedUpload> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      sha256.update(chunk);
      size += chunk.length;
      if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
      callback(null, chunk);
    },
  });
  const upload = new Upload({
    client: s3.internal, queueSize: 2, partSize: 8 * 1024 * 1024, leavePartsOnError: false,
    params: { Bucket: s3.bucket, Key: tempKey, Body: hashing },
  });
  let tooLarge = false;
  stream.on('limit', () => {
    tooLarge = true;
    hashing.destroy(httpError(413, 'FILE_TOO_LARGE', 'the file exceeds the maximum upload size'));
    void upload.abort().catch(() => {});
  });
  stream.on('error', (err) => hashing.destroy(err));
  stream.pipe(hashing);
  try {
    await upload.done();
  } catch (err) {
    await deleteObject(s3, tempKey);
    if (tooLarge) throw httpError(413, 'FILE_TOO_LARGE', 'the file exceeds the maximum upload size');
    if (stream.destroyed || (err as Error).name === 'AbortError') throw httpError(400, 'UPLOAD_INTERRUPTED', 'the upload was cut off before the file ended');
    throw err;
  }
  if (tooLarge || stream.truncated) {
    await deleteObject(s3, tempKey);
    throw httpError(413, 'FILE_TOO_LARGE', 'the file exceeds the maximum upload size');
  }
  return { tempKey, md5: md5.digest('hex'), sha256: sha256.digest('hex'), size, head };
}

/** The original platform's sharded key scheme: tenants/{db}/files/{md5[:2]}/{md5[2:4]}/{md5}_{uuid}. */
export function fileKey(s3: S3Clients, databaseName: string, md5: string, fileId: string): string {
  return `${s3.keyPrefix}tenants/${databaseName}/files/${md5.slice(0, 2)}/${md5.slice(2, 4)}/${md5}_${fileId}`;
}

export function tempKey(s3: S3Clients, databaseName: string): string {
  return `${s3.keyPrefix}tenants/${databaseName}/uploads/${randomUUID()}`;
}

export async function copyObject(s3: S3Clients, from: string, to: string): Promise<void> {
  await s3.internal.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: to, CopySource: `${s3.bucket}/${encodeURI(from)}` }));
}

export async function deleteObject(s3: S3Clients, key: string): Promise<void> {
  await s3.internal.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })).catch(() => {});
}
