import { Worker } from 'node:worker_threads';

/**
 * MD5 and SHA-256 of uploads, computed on a worker thread so that hashing runs beside the
 * upload's own work (receiving, parsing the multipart body, signing and sending parts to S3)
 * instead of in front of it. Profiled on a 64 MiB upload, the two hashes and the SDK's payload
 * hash of each part were 43 % of the command API's busy main thread.
 *
 * The bytes are never copied: a content's parts are filled into buffers over SharedArrayBuffers
 * and the worker hashes them in place, in the order they were handed over (one worker, messages
 * in order). A buffer must not be refilled before its `update` resolves.
 */
export type ContentHash = {
  /**
   * Hashes `length` bytes of `part`, after every part handed over before it; answers that
   * part's own checksum: its SHA-256 (hex), the payload hash a signed S3 UploadPart carries, or
   * its CRC32 (base64, x-amz-checksum-crc32).
   */
  update: (part: SharedBuffer, length: number, checksum?: 'sha256' | 'crc32') => Promise<string>;
  /** The digests (hex) of everything handed over; the hash is done with afterwards. */
  digest: () => Promise<{ md5: string; sha256: string }>;
  /** Forgets the hash (the upload failed). */
  discard: () => void;
};

/** A buffer the worker can read in place. */
export type SharedBuffer = Buffer & { readonly shared: SharedArrayBuffer };

/**
 * Shared buffers are kept for reuse (a few, of one size): the worker's references to a buffer
 * it was sent live until its own garbage collection, which an idle worker rarely runs, so
 * fresh buffers per upload would pile up in RSS.
 */
const pool: SharedBuffer[] = [];
const POOL_SIZE = 8;

/** A shared buffer of `size` bytes, reused when one is free; give it back with `releaseShared`. */
export function sharedBuffer(size: number): SharedBuffer {
  const reused = pool.findIndex((b) => b.length === size);
  if (reused >= 0) return pool.splice(reused, 1)[0]!;
  const shared = new SharedArrayBuffer(size);
  return Object.assign(Buffer.from(shared), { shared });
}

/**
 * Copies `source` into `target` at `offset`; answers the bytes copied (as much as fits).
 * Buffer#copy into a SharedArrayBuffer goes through V8's relaxed-atomic memmove, which copies
 * byte by byte when source and target are not 8-byte aligned alike (1.5-2 GB/s here, 10 % of the
 * command API's CPU during a 64 MiB upload); Buffer#fill with a buffer is a plain memcpy.
 */
export function copyIntoShared(target: SharedBuffer, offset: number, source: Buffer): number {
  const length = Math.min(source.length, target.length - offset);
  if (length > 0) target.fill(length === source.length ? source : source.subarray(0, length), offset, offset + length);
  return length;
}

export function releaseShared(buffers: Iterable<SharedBuffer>): void {
  for (const buffer of buffers) if (pool.length < POOL_SIZE && !pool.includes(buffer)) pool.push(buffer);
}

type Reply = { id: number; error?: string; part?: string; md5?: string; sha256?: string };

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();

function hasher(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL('./content-hasher-worker.ts', import.meta.url));
  started.unref(); // an idle hasher never keeps the process alive (a busy one does: see ask)
  started.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (waiting.size === 0) started.unref();
    if (!pending) return;
    if (reply.error) pending.reject(new Error(`content hasher: ${reply.error}`));
    else pending.resolve(reply);
  });
  // A worker that dies fails what it was asked; the next content starts a new one.
  const fail = (err: Error) => {
    if (worker === started) worker = undefined;
    for (const pending of waiting.values()) pending.reject(err);
    waiting.clear();
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`content hasher exited (${code})`)));
  worker = started;
  return started;
}

function ask(message: Record<string, unknown>): Promise<Reply> {
  const id = nextId++;
  return new Promise<Reply>((resolve, reject) => {
    const thread = hasher();
    if (waiting.size === 0) thread.ref();
    waiting.set(id, { resolve, reject });
    thread.postMessage({ id, ...message });
  });
}

export function contentHash(): ContentHash {
  const content = nextId++;
  return {
    update: async (part, length, checksum = 'sha256') =>
      (await ask({ op: 'update', content, shared: part.shared, offset: part.byteOffset, length, checksum })).part!,
    digest: async () => {
      const { md5, sha256 } = await ask({ op: 'digest', content });
      return { md5: md5!, sha256: sha256! };
    },
    discard: () => worker?.postMessage({ id: 0, op: 'discard', content }),
  };
}
