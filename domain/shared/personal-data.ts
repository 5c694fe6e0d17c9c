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

/** Marks a plain value of an older version as legacy (`ll0.`): pure, so upcasters may use it. */
export function legacySealed(value: unknown): string {
  const json = JSON.stringify(value ?? null);
  // btoa needs Latin-1: encode UTF-8 bytes first.
  const bytes = new TextEncoder().encode(json);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `ll0.${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** The value inside a legacy (`ll0.`) envelope. */
export function openLegacy(envelope: string): unknown {
  const body = envelope.slice(4);
  if (!envelope.startsWith('ll0.') || !BASE64URL.test(body)) throw new Error('not a legacy envelope');
  const binary = atob(body.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
}

/** An upcaster from a plain version to its sealed successor: wraps each personal field present as legacy. */
export function wrapLegacyFields(fields: readonly string[]) {
  return (data: Record<string, unknown>): Record<string, unknown> => {
    const next = { ...data };
    for (const field of fields) if (field in next && next[field] !== undefined) next[field] = legacySealed(next[field]);
    return next;
  };
}
