import t from 'tap';
import fc from 'fast-check';
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { keyIdOf, openValue, sealValue } from './sealed-envelope.ts';
import { legacySealed, openLegacy, SEALED_PATTERN } from '../../domain/shared/personal-data.ts';

const sealedPattern = new RegExp(SEALED_PATTERN);
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

t.test('any JSON value opens to itself under its key, and the envelope matches the published pattern', async (t) => {
  fc.assert(
    fc.property(json, (value) => {
      const keyId = randomUUID();
      const key = createSecretKey(randomBytes(32));
      const envelope = sealValue(value, keyId, key);
      return sealedPattern.test(envelope) && keyIdOf(envelope) === keyId && JSON.stringify(openValue(envelope, key)) === JSON.stringify(value ?? null);
    }),
    { numRuns: 300 },
  );
  t.pass('round trip holds');
});

t.test('the plaintext never shows in the envelope, and two seals of one value differ (random IV)', async (t) => {
  fc.assert(
    fc.property(fc.string({ minLength: 6, maxLength: 200 }), (text) => {
      const key = createSecretKey(randomBytes(32));
      const keyId = randomUUID();
      const a = sealValue(text, keyId, key);
      const b = sealValue(text, keyId, key);
      return a !== b && !a.includes(text);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('another key, another key id, or any flipped character does not open', async (t) => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.nat(), (text, at) => {
      const key = createSecretKey(randomBytes(32));
      const keyId = randomUUID();
      const envelope = sealValue(text, keyId, key);
      const fails = (f: () => unknown) => {
        try {
          f();
          return false;
        } catch {
          return true;
        }
      };
      const body = envelope.slice(4 + keyId.length + 1);
      const i = at % body.length;
      const flippedBody = `${body.slice(0, i)}${body[i] === 'A' ? 'B' : 'A'}${body.slice(i + 1)}`;
      const flipped = `ll1.${keyId}.${flippedBody}`;
      const moved = `ll1.${randomUUID()}.${body}`;
      // The last base64url character may carry only padding bits: a flip there changes no byte.
      const sameBytes = Buffer.from(flippedBody, 'base64url').equals(Buffer.from(body, 'base64url'));
      return (
        fails(() => openValue(envelope, createSecretKey(randomBytes(32)))) &&
        fails(() => openValue(moved, key)) &&
        (sameBytes || fails(() => openValue(flipped, key)))
      );
    }),
    { numRuns: 200 },
  );
  t.pass();
});

t.test('legacy envelopes (values written before sealing) round-trip and match the pattern', async (t) => {
  fc.assert(
    fc.property(json, (value) => {
      const envelope = legacySealed(value);
      return sealedPattern.test(envelope) && JSON.stringify(openLegacy(envelope)) === JSON.stringify(value ?? null);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

t.test("a legacy envelope's body is the base64url of the value's UTF-8 JSON, and opens from there (old events and audit consumers read it)", async (t) => {
  const value = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'grapheme' })), json);
  fc.assert(
    fc.property(value, (v) => {
      const body = Buffer.from(JSON.stringify(v ?? null), 'utf8').toString('base64url');
      return legacySealed(v) === `ll0.${body}` && JSON.stringify(openLegacy(`ll0.${body}`)) === JSON.stringify(v ?? null);
    }),
    { numRuns: 500 },
  );
  t.equal(legacySealed('Ünïcode plan ✓'), 'll0.IsOcbsOvY29kZSBwbGFuIOKckyI', 'a fixed value pins the format');
  t.throws(() => openLegacy('ll0.not base64'), /not a legacy envelope/);
});
