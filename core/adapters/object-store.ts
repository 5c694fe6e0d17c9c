import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3Clients } from './s3.ts';
import { httpError } from './http.ts';
import { unavailableDependency } from './unavailable.ts';
import { contentHash, copyIntoShared, releaseShared, sharedBuffer, type SharedBuffer } from './content-hasher.ts';

/**
 * The file objects of every tenant: their keys, the upload that hashes while it streams, and
 * their copy and deletion. The one owner of object storage; the APIs and projectors call it.
 */

/** The original platform's sharded key scheme: tenants/{db}/files/{md5[:2]}/{md5[2:4]}/{md5}_{uuid}. */
export function fileKey(s3: S3Clients, databaseName: string, md5: string, fileId: string): string {
  return `${s3.keyPrefix}tenants/${databaseName}/files/${md5.slice(0, 2)}/${md5.slice(2, 4)}/${md5}_${fileId}`;
}

export function stagingKey(s3: S3Clients, databaseName: string): string {
  return `${s3.keyPrefix}tenants/${databaseName}/uploads/${randomUUID()}`;
}

export async function deleteObject(s3: S3Clients, key: string): Promise<void> {
  await s3.internal.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key })).catch(() => {});
}

/** Bytes received and hashed; `storeAt` puts them at their final key (known only once hashed). */
export type ReceivedFile = {
  md5: string;
  sha256: string;
  size: number;
  head: Buffer;
  storeAt: (key: string) => Promise<void>;
  /** Removes what receiving left behind (the staged object); the stored copy stays. */
  discard: () => Promise<void>;
};

/** S3's smallest multipart part. A file that fits in one is kept in memory and written once. */
const PART_SIZE = 5 * 1024 * 1024;
/** Parts on their way to S3 at once while the next one fills: memory is (this + 1) parts. */
const PARTS_IN_FLIGHT = 4;
const COPY_PART_SIZE = 16 * 1024 * 1024;
const HEAD_BYTES = 64;

const tooLargeError = () => httpError(413, 'FILE_TOO_LARGE', 'the file exceeds the maximum upload size');
const stalledError = () => httpError(408, 'UPLOAD_STALLED', 'the upload stopped sending data');

/**
 * Receives a file part while computing MD5 and SHA-256 of each filled buffer on the content
 * hasher's thread (content-hasher.ts), beside the receiving and sending. A small file stays in
 * memory and is written once, at its final key, by `storeAt` (or never, when deduplicated). A
 * larger one streams to S3 in parts, several uploading at once from a small ring of reused
 * buffers, so memory stays flat whatever the size. Its final key names the MD5: when the client
 * declared it (X-Content-MD5), the parts go straight to that key (`declared.key`) and a mismatch
 * deletes them; otherwise they go to a staging object and the final key is a server-side copy.
 * Exceeding the size limit aborts at once and leaves nothing behind.
 */
export async function receiveFile(
  s3: S3Clients,
  stream: Readable & { truncated?: boolean },
  databaseName: string,
  stallMs = 30_000,
  declared?: { md5: string; key: string },
): Promise<ReceivedFile> {
  const hash = contentHash();
  const free: SharedBuffer[] = [];
  let buffer = sharedBuffer(PART_SIZE);
  const parts: { ETag: string; PartNumber: number; ChecksumCRC32?: string }[] = [];
  const checksummed = s3.partIntegrity === 'crc32';
  const inFlight = new Set<Promise<void>>();
  const head = Buffer.alloc(HEAD_BYTES);
  let headLength = 0;
  let filled = 0;
  let size = 0;
  let key: string | undefined;
  let uploadId: string | undefined;
  let failure: unknown;
  let tooLarge = false;
  stream.on('limit', () => {
    tooLarge = true;
    stream.destroy(tooLargeError());
  });

  async function sendPart(): Promise<void> {
    key ??= declared?.key ?? stagingKey(s3, databaseName);
    uploadId ??= (
      await s3.internal.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key, ...(checksummed ? { ChecksumAlgorithm: 'CRC32' as const } : {}) }))
    ).UploadId;
    while (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
    const partNumber = parts.length + 1;
    const full = buffer;
    const body = full.subarray(0, filled);
    parts.push({ ETag: '', PartNumber: partNumber });
    // Hashed first (the part's checksum, which S3 checks: its SHA-256 as the signed payload
    // hash, or its CRC32; see S3Clients), then sent; meanwhile the next buffer fills. The buffer
    // is free again once it is sent.
    const sent: Promise<void> = hash
      .update(full, body.length, checksummed ? 'crc32' : 'sha256')
      .then(async (checksum) => {
        // The CRC32 goes with the part, and again with the completion's list of parts.
        const crc32 = checksummed ? { ChecksumCRC32: checksum } : {};
        const part = new UploadPartCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ...crc32,
        });
        const answer = await s3.internal.send(withPayloadHash(part, checksummed ? 'UNSIGNED-PAYLOAD' : checksum));
        parts[partNumber - 1] = { ETag: answer.ETag ?? '', PartNumber: partNumber, ...crc32 };
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        inFlight.delete(sent);
        free.push(full);
      });
    inFlight.add(sent);
    buffer = free.pop() ?? sharedBuffer(PART_SIZE);
    filled = 0;
  }

  // A client that stops sending mid-file would otherwise hold the buffers and an open S3
  // multipart upload forever: no byte for stallMs ends the upload (and aborts the multipart).
  const stall = setTimeout(() => stream.destroy(stalledError()), stallMs);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      stall.refresh();
      size += chunk.length;
      if (headLength < HEAD_BYTES) headLength += chunk.copy(head, headLength, 0, HEAD_BYTES - headLength);
      for (let offset = 0; offset < chunk.length;) {
        const copied = copyIntoShared(buffer, filled, offset === 0 ? chunk : chunk.subarray(offset));
        filled += copied;
        offset += copied;
        if (filled === PART_SIZE) {
          await sendPart();
          stall.refresh();
        }
      }
    }
    clearTimeout(stall);
    if (tooLarge || stream.truncated) throw tooLargeError();
    if (uploadId !== undefined) {
      if (filled > 0) await sendPart();
      await Promise.all(inFlight);
      if (failure) throw failure;
      await s3.internal.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } else {
      await hash.update(buffer, filled);
    }
  } catch (err) {
    clearTimeout(stall);
    await Promise.all(inFlight);
    hash.discard();
    releaseShared([...free, buffer]);
    if (uploadId !== undefined) {
      await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })).catch(() => {});
    }
    if (tooLarge) throw tooLargeError();
    if (typeof (err as { statusCode?: unknown }).statusCode === 'number' && (err as { code?: unknown }).code) throw err;
    // S3 failing mid-stream also destroys the request stream: that is a 503, not the client's cut-off.
    if (unavailableDependency(err)) throw err;
    // S3 refused a part (what arrived did not match its checksum or signed hash): not the
    // client's doing, though the request stream ends with it.
    if (err === failure) throw Object.assign(httpError(502, 'STORAGE_REJECTED', 'object storage refused part of the file; nothing was stored'), { cause: err });
    if (stream.destroyed || (err as Error).name === 'AbortError') throw httpError(400, 'UPLOAD_INTERRUPTED', 'the upload was cut off before the file ended');
    throw err;
  }

  const staged = key;
  // A small file is kept (copied out of the shared buffer) until it is stored or deduplicated.
  const small = staged === undefined ? Buffer.from(buffer.subarray(0, filled)) : undefined;
  releaseShared([...free, buffer]);
  const digests = await hash.digest().catch(async (err: unknown) => {
    if (staged) await deleteObject(s3, staged);
    throw err;
  });
  const digest = digests.md5;
  if (declared && digest !== declared.md5) {
    if (staged) await deleteObject(s3, staged);
    throw httpError(400, 'CONTENT_MD5_MISMATCH', `the file's MD5 is ${digest}, not the ${declared.md5} X-Content-MD5 declared`);
  }
  let storedInPlace = false;
  return {
    md5: digest,
    sha256: digests.sha256,
    size,
    head: Buffer.from(head.subarray(0, headLength)),
    async storeAt(finalKey) {
      if (small) {
        // The body is the whole content: its SHA-256, computed already, is the payload hash.
        await s3.internal.send(
          withPayloadHash(new PutObjectCommand({ Bucket: s3.bucket, Key: finalKey, Body: small, ContentLength: small.length }), digests.sha256),
        );
      } else if (staged === finalKey) {
        storedInPlace = true; // streamed to its final key already (declared MD5): nothing to copy
      } else {
        await copyObject(s3, staged!, finalKey, size);
      }
    },
    discard: async () => {
      if (staged && !storedInPlace) await deleteObject(s3, staged);
    },
  };
}

/**
 * Signs the request with a payload hash computed beforehand, or UNSIGNED-PAYLOAD (the signer
 * takes an x-amz-content-sha256 header as given instead of hashing the body itself); S3 still
 * checks the body against the hash, or against the part's checksum header.
 */
function withPayloadHash<C extends UploadPartCommand | PutObjectCommand>(command: C, sha256Hex: string): C {
  // The middleware only touches the HTTP request, the same for either command.
  (command.middlewareStack as UploadPartCommand['middlewareStack']).add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = sha256Hex;
      return next(args);
    },
    { step: 'build', name: 'ledgerlinePayloadHash' },
  );
  return command;
}

/** A server-side copy; a large object is copied in ranges, several at once (UploadPartCopy). */
export async function copyObject(s3: S3Clients, from: string, to: string, size: number): Promise<void> {
  const source = `${s3.bucket}/${encodeURI(from)}`;
  const partCount = Math.ceil(size / COPY_PART_SIZE);
  const { UploadId } = await s3.internal.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: to }));
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(4, partCount) }, async () => {
        for (let index = next++; index < partCount; index = next++) {
          const start = index * COPY_PART_SIZE;
          const end = Math.min(size, start + COPY_PART_SIZE) - 1;
          const answer = await s3.internal.send(
            new UploadPartCopyCommand({
              Bucket: s3.bucket,
              Key: to,
              UploadId,
              PartNumber: index + 1,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          parts[index] = { ETag: answer.CopyPartResult?.ETag ?? '', PartNumber: index + 1 };
        }
      }),
    );
    await s3.internal.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: to, UploadId })).catch(() => {});
    throw err;
  }
}

/**
 * Deletes every object under a key prefix (1000 per request), and aborts the multipart uploads
 * still open under it. Idempotent: a second run finds nothing.
 */
export async function deletePrefix(s3: S3Clients, prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, MaxKeys: 1000 }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (keys.length === 0) break;
    await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys, Quiet: true } }));
    deleted += keys.length;
  }
  const uploads = await s3.internal.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }));
  for (const upload of uploads.Uploads ?? []) {
    if (upload.Key === undefined || upload.UploadId === undefined) continue;
    await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: upload.Key, UploadId: upload.UploadId })).catch(() => {});
  }
  return deleted;
}

/** The key prefix of everything a tenant stores (files and staged uploads). */
export const tenantPrefix = (s3: S3Clients, databaseName: string) => `${s3.keyPrefix}tenants/${databaseName}/`;
