import { AbortMultipartUploadCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool } from '../../core/adapters/db.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import type { S3Clients } from '../../core/adapters/s3.ts';

const KeyRow = rowSchema(Type.Object({ key: Type.String() }));

export type OrphanSweep = { stagedDeleted: number; unreferencedDeleted: number; multipartAborted: number };

/**
 * Removes objects no event will ever point to: staged uploads (`…/uploads/…`, temporary by
 * construction: the upload deletes its own, unless S3 failed right then) and stored copies
 * (`…/files/…`) that no event names, because S3 or PostgreSQL failed between the copy and the
 * append. Only objects older than `minAgeMs` are touched, so an upload in flight keeps its objects.
 * Abandoned multipart uploads of the same age are aborted too (their parts hold storage).
 */
export async function sweepOrphanObjects(options: { s3: S3Clients; pool: DatabasePool; minAgeMs: number; now?: Date }): Promise<OrphanSweep> {
  const { s3, pool } = options;
  const cutoff = (options.now ?? new Date()).getTime() - options.minAgeMs;
  const root = `${s3.keyPrefix}tenants/`;
  const result: OrphanSweep = { stagedDeleted: 0, unreferencedDeleted: 0, multipartAborted: 0 };
  let referenced: Set<string> | undefined;
  let token: string | undefined;
  do {
    const page = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: root, ContinuationToken: token }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    const old = (page.Contents ?? []).filter((o) => o.Key && o.LastModified && o.LastModified.getTime() < cutoff).map((o) => o.Key!);
    const staged = old.filter((key) => key.slice(root.length).split('/')[1] === 'uploads');
    const stored = old.filter((key) => key.slice(root.length).split('/')[1] === 'files');
    if (stored.length > 0) {
      // Read after listing: a key appended since is in the set, so it is never taken for an orphan.
      referenced ??= new Set(
        await pool.anyFirst(sql.type(KeyRow)`
        select distinct data->>'s3Key' as key from events where data ? 's3Key'`),
      );
    }
    const unreferenced = stored.filter((key) => !referenced?.has(key));
    await deleteKeys(s3, [...staged, ...unreferenced]);
    result.stagedDeleted += staged.length;
    result.unreferencedDeleted += unreferenced.length;
  } while (token);
  const uploads = await s3.internal.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: root }));
  for (const upload of uploads.Uploads ?? []) {
    if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() >= cutoff) continue;
    await s3.internal.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: upload.Key, UploadId: upload.UploadId }));
    result.multipartAborted += 1;
  }
  return result;
}

async function deleteKeys(s3: S3Clients, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: batch, Quiet: true } }));
  }
}

/** Runs the sweep every `intervalMs` in the background; a failed round (S3 or PostgreSQL down) is logged and retried next time. */
export function startOrphanSweeper(options: { s3: S3Clients; pool: DatabasePool; logger: Logger; intervalMs: number; minAgeMs: number }): { stop: () => void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOrphanObjects(options)
      .then(
        (swept) => {
          if (swept.stagedDeleted + swept.unreferencedDeleted + swept.multipartAborted > 0) options.logger.info(swept, 'orphan objects removed');
        },
        (err: unknown) => options.logger.warn({ err }, 'orphan sweep failed; retrying next round'),
      )
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
