// The content hasher's thread (content-hasher.ts): MD5 and SHA-256 per content, updated in the
// order parts arrive, read in place from shared memory; and each part's own checksum for S3:
// its SHA-256 (the payload hash a signed payload needs) or its CRC32 (object-store.ts).
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

type Message =
  | { id: number; op: 'update'; content: number; shared: SharedArrayBuffer; offset: number; length: number; checksum: 'sha256' | 'crc32' }
  | { id: number; op: 'digest'; content: number }
  | { id: number; op: 'discard'; content: number };

const contents = new Map<number, { md5: Hash; sha256: Hash }>();

parentPort!.on('message', (message: Message) => {
  try {
    if (message.op === 'discard') {
      contents.delete(message.content);
      return;
    }
    let hashes = contents.get(message.content);
    if (!hashes) {
      hashes = { md5: createHash('md5'), sha256: createHash('sha256') };
      contents.set(message.content, hashes);
    }
    if (message.op === 'update') {
      const bytes = new Uint8Array(message.shared, message.offset, message.length);
      hashes.md5.update(bytes);
      hashes.sha256.update(bytes);
      parentPort!.postMessage({ id: message.id, part: message.checksum === 'crc32' ? crc32Base64(bytes) : createHash('sha256').update(bytes).digest('hex') });
    } else {
      contents.delete(message.content);
      parentPort!.postMessage({ id: message.id, md5: hashes.md5.digest('hex'), sha256: hashes.sha256.digest('hex') });
    }
  } catch (err) {
    parentPort!.postMessage({ id: message.id, error: (err as Error).message });
  }
});

/** A CRC32 as S3's x-amz-checksum-crc32 carries it: the four big-endian bytes, base64. */
function crc32Base64(bytes: Uint8Array): string {
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(bytes) >>> 0);
  return sum.toString('base64');
}
