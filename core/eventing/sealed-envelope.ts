import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto';

/**
 * The ciphertext envelope of one personal field: `ll1.<keyId>.<base64url(iv | ciphertext | tag)>`,
 * AES-256-GCM with a random 96-bit IV, the key id as additional data (a value cannot be moved
 * under another key), over the field's JSON. See domain/shared/personal-data.ts.
 */
const PREFIX = 'll1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// IVs come from a pool filled by the CSPRNG 4 KiB at a time: one randomBytes call per field
// costs about as much as the encryption itself. Each IV is still fresh random bytes, never reused.
const pool = Buffer.alloc(4096);
let used = pool.length;
function freshIv(): Buffer {
  if (used + IV_BYTES > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const iv = Buffer.from(pool.subarray(used, used + IV_BYTES));
  used += IV_BYTES;
  return iv;
}

/** `key` is a KeyObject (createSecretKey): OpenSSL prepares it once, where a raw Buffer is prepared on every call. */
export function sealValue(value: unknown, keyId: string, key: KeyObject): string {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(keyId));
  const body = Buffer.concat([cipher.update(JSON.stringify(value ?? null), 'utf8'), cipher.final()]);
  return `${PREFIX}${keyId}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The key id an envelope was sealed under, or null for anything that is not an `ll1.` envelope. */
export function keyIdOf(envelope: string): string | null {
  if (!envelope.startsWith(PREFIX)) return null;
  const dot = envelope.indexOf('.', PREFIX.length);
  return dot === -1 ? null : envelope.slice(PREFIX.length, dot);
}

/** The value inside an envelope; throws if it was tampered with or sealed under another key. */
export function openValue(envelope: string, key: KeyObject): unknown {
  const keyId = keyIdOf(envelope);
  if (keyId === null) throw new Error('not a sealed envelope');
  const raw = Buffer.from(envelope.slice(PREFIX.length + keyId.length + 1), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed envelope too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as unknown;
}
