import t from 'tap';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { contentHash, copyIntoShared, sharedBuffer } from './content-hasher.ts';
import { crc32 } from 'node:zlib';

const PART = 64 * 1024;

/** Hands `data` to the hasher as the upload does: filled into a few reused shared buffers. */
async function hashInParts(data: Buffer, cuts: number[]): Promise<{ md5: string; sha256: string; partsMatch: boolean }> {
  const hash = contentHash();
  const buffers = [sharedBuffer(PART), sharedBuffer(PART)];
  const pending: Promise<boolean>[] = [];
  let from = 0;
  for (const [i, to] of [...cuts, data.length].entries()) {
    const buffer = buffers[i % buffers.length]!;
    await pending[i - buffers.length]; // a buffer is refilled only once its hashing is done
    const length = data.copy(buffer, 0, from, to);
    const expected = createHash('sha256').update(data.subarray(from, to)).digest('hex');
    pending.push(hash.update(buffer, length).then((part) => part === expected));
    from = to;
  }
  const partsMatch = (await Promise.all(pending)).every(Boolean);
  return { ...(await hash.digest()), partsMatch };
}

const content = fc.integer({ min: 0, max: 4 * PART }).chain((size) =>
  fc.record({
    data: fc.constant(randomBytes(size)),
    cuts: fc.uniqueArray(fc.integer({ min: 0, max: size }), { maxLength: 12 }).map((cuts) => cuts.sort((a, b) => a - b)),
  }),
);

t.test('the hasher thread gives the MD5 and SHA-256 of the bytes in the order handed over however they are cut, and each part its SHA-256', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      content.filter(({ cuts }) => cuts.every((c, i) => c - (cuts[i - 1] ?? 0) <= PART)),
      async ({ data, cuts }) => {
        // Parts are at most a buffer long: cut the rest of the content into buffer-sized pieces too.
        const all = [...cuts];
        for (let at = (cuts.at(-1) ?? 0) + PART; at < data.length; at += PART) all.push(at);
        const got = await hashInParts(data, all);
        return got.partsMatch && got.md5 === createHash('md5').update(data).digest('hex') && got.sha256 === createHash('sha256').update(data).digest('hex');
      },
    ),
    { numRuns: 60 },
  );
  t.pass('digests equal crypto on the main thread');
});

t.test('concurrent contents keep their own hashes', async (t) => {
  const contents = Array.from({ length: 8 }, () => randomBytes(3 * PART + 17));
  const got = await Promise.all(contents.map((data) => hashInParts(data, [PART, 2 * PART, 3 * PART])));
  t.same(
    got.map((g) => g.sha256),
    contents.map((data) => createHash('sha256').update(data).digest('hex')),
  );
});

t.test('an empty content has the digests of no bytes', async (t) => {
  const got = await contentHash().digest();
  t.same(got, { md5: createHash('md5').digest('hex'), sha256: createHash('sha256').digest('hex') });
});

t.test("a part's checksum is its CRC32 (big-endian, base64) when asked for, and the content's digests are unchanged", async (t) => {
  const data = randomBytes(PART - 3);
  const buffer = sharedBuffer(PART);
  t.equal(copyIntoShared(buffer, 0, data.subarray(0, 5)) + copyIntoShared(buffer, 5, data.subarray(5)), data.length, 'copied in two pieces');
  const hash = contentHash();
  const part = await hash.update(buffer, data.length, 'crc32');
  const expected = Buffer.alloc(4);
  expected.writeUInt32BE(crc32(data) >>> 0);
  t.equal(part, expected.toString('base64'));
  t.same(await hash.digest(), { md5: createHash('md5').update(data).digest('hex'), sha256: createHash('sha256').update(data).digest('hex') });
});

t.test('copying into a shared buffer copies what fits, at any offset', async (t) => {
  const buffer = sharedBuffer(16);
  buffer.fill(0);
  t.equal(copyIntoShared(buffer, 5, Buffer.from('abcdefghijklmnop')), 11);
  t.equal(buffer.toString('latin1', 5), 'abcdefghijk');
  t.equal(copyIntoShared(buffer, 16, Buffer.from('x')), 0, 'nothing fits at the end');
  t.equal(copyIntoShared(buffer, 0, Buffer.alloc(0)), 0);
});
