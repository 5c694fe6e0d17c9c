import { Type, type TObject, type TSchema } from 'typebox';

/**
 * Personal data on the log is sealed per data subject (crypto-shredding): the event carries
 * `ll1.<keyId>.<base64url(iv | ciphertext | tag)>`, AES-256-GCM under a key kept outside the log
 * (core/eventing/subject-keys.ts); deleting the key erases the field everywhere the event went.
 * `ll0.<base64url(json)>` marks a value written before sealing existed (upcast from an older
 * version): not encrypted, and erased only from read models, since the log is never rewritten.
 */
export const SEALED_PATTERN = '^ll(0\\.[A-Za-z0-9_-]*|1\\.[0-9a-f-]{36}\\.[A-Za-z0-9_-]+)$';
export const Sealed = () =>
  Type.String({
    pattern: SEALED_PATTERN,
    maxLength: 12_000,
    description: 'Personal data, sealed per data subject (AES-256-GCM); reads as erased once the subject is erased.',
    examples: ['ll1.3fa85f64-5717-4562-b3fc-2c963f66afa6.k1Yx2mJ8cQm0b3NvbWUgY2lwaGVydGV4dA'],
  });

/** How a field reads once its key is gone. Documented in README "Erasure". */
export const ERASED = '[erased]';

/** Whose key seals a field: a user's own data; what a user wrote in a tenant; an address known only by its keyed hash. */
export type DataSubject =
  | { kind: 'user'; userId: string }
  | { kind: 'author'; tenantId: string; userId: string }
  | { kind: 'address'; tenantId: string | null; email?: string; emailHash?: string }
  | { kind: 'tenant'; tenantId: string };

export type PersonalFields = {
  /** Top-level properties of the event's data that are sealed (any JSON value each). */
  fields: readonly string[];
  /** The subject whose key seals them, from the event's data and the command's actor and tenant. */
  subject: (data: Record<string, unknown>, context: { actor: string | null; tenantId: string | null }) => DataSubject;
  /** What each field reads as when erased: a value of the field's plain type, free of personal data. */
  erased: Readonly<Record<string, unknown>>;
};

/** The sealed version of an event schema: each personal field becomes a Sealed string (still optional if it was). */
export function sealedEventSchema(schema: TSchema, fields: readonly string[]): TSchema {
  const event = schema as TObject;
  const data = event.properties['data'] as TObject;
  const required = new Set<string>((data as unknown as { required?: string[] }).required ?? []);
  const properties = Object.fromEntries(
    Object.entries(data.properties).map(([name, property]) => [
      name,
      fields.includes(name) ? (required.has(name) ? Sealed() : Type.Optional(Sealed())) : property,
    ]),
  );
  return Type.Object({ type: event.properties['type']!, data: Type.Object(properties, { additionalProperties: false }) }, { additionalProperties: false });
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ASCII = /^[\x00-\x7f]*$/;
const TO_URL_SAFE: Readonly<Record<string, string>> = { '+': '-', '/': '_' };
const FROM_URL_SAFE: Readonly<Record<string, string>> = { '-': '+', _: '/' };
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

// btoa and atob speak Latin-1 strings; a value's JSON is UTF-8. ASCII text (most values) is its
// own UTF-8, so it skips the byte round trip: a rebuild of old events wraps and opens every
// personal field of every event, and the per-byte path was a sixth of its CPU.
function utf8AsLatin1(text: string): string {
  if (ASCII.test(text)) return text;
  const bytes = utf8Encoder.encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 4096) binary += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return binary;
}

function latin1AsUtf8(binary: string): string {
  if (ASCII.test(binary)) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return utf8Decoder.decode(bytes);
}

/** Marks a plain value of an older version as legacy (`ll0.`): pure, so upcasters may use it. */
export function legacySealed(value: unknown): string {
  const base64 = btoa(utf8AsLatin1(JSON.stringify(value ?? null)));
  let end = base64.length;
  while (end > 0 && base64.charCodeAt(end - 1) === 0x3d /* = */) end--;
  return `ll0.${base64.slice(0, end).replace(/[+/]/g, (c) => TO_URL_SAFE[c]!)}`;
}

/** The value inside a legacy (`ll0.`) envelope. */
export function openLegacy(envelope: string): unknown {
  const body = envelope.slice(4);
  if (!envelope.startsWith('ll0.') || !BASE64URL.test(body)) throw new Error('not a legacy envelope');
  return JSON.parse(latin1AsUtf8(atob(body.replace(/[-_]/g, (c) => FROM_URL_SAFE[c]!)))) as unknown;
}

/** An upcaster from a plain version to its sealed successor: wraps each personal field present as legacy. */
export function wrapLegacyFields(fields: readonly string[]) {
  return (data: Record<string, unknown>): Record<string, unknown> => {
    const next = { ...data };
    for (const field of fields) if (field in next && next[field] !== undefined) next[field] = legacySealed(next[field]);
    return next;
  };
}
