import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Clients } from '../../platform/s3.ts';
import { httpError } from '../../platform/http.ts';

export type StagedUpload = { tempKey: string; md5: string; sha256: string; size: number; head: Buffer };

/** S3's smallest multipart part; two of them are all the memory an upload of any size uses. */
const PART_SIZE = 5 * 1024 * 1024;
const HEAD_BYTES = 64;

const tooLargeError = () => httpError(413, 'FILE_TOO_LARGE', 'the file exceeds the maximum upload size');

/**
 * Streams a file part to a temporary S3 object while computing MD5 and SHA-256 in the same pass.
 * Bytes are copied into two reused 5 MiB buffers: one fills while the other uploads as a
 * multipart part, so memory stays flat whatever the file's size, and no garbage is made per
 * part. Exceeding the size limit (busboy's 'limit') aborts at once and leaves nothing behind.
 */
export async function stageUpload(s3: S3Clients, stream: Readable & { truncated?: boolean }, tempKey: string): Promise<StagedUpload> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(PART_SIZE), Buffer.allocUnsafe(PART_SIZE)];
  const active = () => (current === 0 ? buffers[0] : buffers[1]);
  const parts: { ETag: string; PartNumber: number }[] = [];
  const head = Buffer.alloc(HEAD_BYTES);
  let headLength = 0;
  let current = 0;
  let filled = 0;
  let size = 0;
  let uploadId: string | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  let tooLarge = false;
  stream.on('limit', () => {
    tooLarge = true;
    stream.destroy(tooLargeError());
  });

  async function sendPart(): Promise<void> {
    uploadId ??= (await s3.internal.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: tempKey }))).UploadId;
    await inFlight; // the previous part is done, so the buffer we switch to below is free
    const partNumber = parts.length + 1;
    const body = active().subarray(0, filled);
    parts.push({ ETag: '', PartNumber: partNumber });
    inFlight = s3.internal.send(new UploadPartCommand({ Bucket: s3.bucket, Key: tempKey, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }))
      .then((answer) => { parts[partNumber - 1] = { ETag: answer.ETag ?? '', PartNumber: partNumber }; });
    current = 1 - current;
    filled = 0;
  }

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      md5.update(chunk);
      sha256.update(chunk);
      size += chunk.length;
      if (headLength < HEAD_BYTES) headLength += chunk.copy(head, headLength, 0, HEAD_BYTES - headLength);
      for (let offset = 0; offset < chunk.length;) {
        const copied = chunk.copy(active(), filled, offset);
        filled += copied;
        offset += copied;
        if (filled === PART_SIZE) await sendPart();
      }
    }
    if (tooLarge || stream.truncated) throw tooLargeError();
    if (uploadId === undefined) {
      // A small file is one PUT; an empty one is not stored at all (the route refuses it).
      if (size > 0) await s3.internal.send(new PutObjectCommand({ Bucket: s3.bucket, Key: tempKey, Body: active().subarray(0, filled), ContentLength: filled }));
    } else {
      if (filled > 0) await sendPart();
      await inFlight;
      await s3.internal.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key: tempKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    }
  } catch (err) {
    await inFlight.catch(() => {});
    if (uploadId !== undefined) {
      await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: tempKey, UploadId: uploadId })).catch(() => {});
    }
    if (tooLarge) throw tooLargeError();
    if (typeof (err as { statusCode?: unknown }).statusCode === 'number' && (err as { code?: unknown }).code) throw err;
    if (stream.destroyed || (err as Error).name === 'AbortError') throw httpError(400, 'UPLOAD_INTERRUPTED', 'the upload was cut off before the file ended');
    throw err;
  }
  return { tempKey, md5: md5.digest('hex'), sha256: sha256.digest('hex'), size, head: head.subarray(0, headLength) };
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
