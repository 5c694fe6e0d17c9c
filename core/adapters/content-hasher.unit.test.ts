import t from 'tap';
import fc from 'fast-check';
import { createHash, randomBytes } from 'node:crypto';
import { contentHash, sharedBuffer } from './content-hasher.ts';

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
