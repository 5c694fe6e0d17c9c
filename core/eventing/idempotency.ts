import { createHmac } from 'node:crypto';
import { Type } from 'typebox';
import { sql, rowSchema, type Queryable } from '../adapters/db.ts';
import { httpError } from '../adapters/http.ts';

const AnswerRow = rowSchema(Type.Object({ request_hash: Type.String(), status_code: Type.Number(), response: Type.Unknown() }));

export type StoredAnswer = { statusCode: number; body: unknown };

declare module 'fastify' {
  interface FastifyInstance {
    /** The server-side key of request fingerprints (see requestHash). */
    fingerprintKey: Buffer;
  }
}

/** The fingerprint key, derived from a server secret so that it is the same on every instance. */
export function fingerprintKeyFrom(serverSecret: string): Buffer {
  return createHmac('sha256', serverSecret).update('ledgerline idempotency fingerprint v1').digest();
}

/**
 * Same method, path and body give the same fingerprint; the key alone must not replay another
 * request. Keyed (HMAC), because register and password-change bodies carry passwords: an
 * unsalted hash in the table would let anyone who reads it test password guesses offline.
 */
export function requestHash(fingerprintKey: Buffer, method: string, url: string, body: unknown): string {
  return createHmac('sha256', fingerprintKey)
    .update(`${method} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/** The first answer for (actor, key) within 24 h, or null; a different request under the key is 422. */
export async function findAnswer(db: Queryable, actor: string, key: string, hash: string): Promise<StoredAnswer | null> {
  const row = await db.maybeOne(sql.type(AnswerRow)`
    select request_hash, status_code, response from idempotency_keys
    where actor = ${actor} and key = ${key} and created_at > now() - interval '24 hours'`);
  if (!row) return null;
  if (row.request_hash !== hash) {
    throw httpError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
  }
  return { statusCode: Number(row.status_code), body: row.response };
}
