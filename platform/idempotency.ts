import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import { sql, rowSchema, type Queryable } from './db.ts';
import { httpError } from './http.ts';

const AnswerRow = rowSchema(Type.Object({ request_hash: Type.String(), status_code: Type.Number(), response: Type.Unknown() }));

export type StoredAnswer = { statusCode: number; body: unknown };

/** Same method, path and body give the same hash; the key alone must not replay another request. */
export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${JSON.stringify(body ?? null)}`).digest('hex');
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

