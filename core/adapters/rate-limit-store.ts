import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql, rowSchema, type DatabasePool } from './db.ts';

const CounterRow = rowSchema(Type.Object({ hits: Type.Number(), ttl_ms: Type.Number() }));

/**
 * A @fastify/rate-limit store in PostgreSQL, so that every API instance counts against the same
 * limit: one upsert per check on an UNLOGGED table (fixed windows; the first hit of an expired
 * window starts a new one). Keys are hashed, so no email address or IP lands in the table.
 * Expired windows are deleted by the purge job (core/eventing/purge.ts).
 */
export function postgresRateLimitStore(pool: DatabasePool): FastifyRateLimitStoreCtor {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const hashed = createHash('sha256').update(key).digest('base64url');
      pool
        .one(
          sql.type(CounterRow)`
        insert into rate_limits as r (key, hits, window_ends)
        values (${hashed}, 1, now() + make_interval(secs => ${timeWindow / 1000}))
        on conflict (key) do update set
          hits = case when r.window_ends <= now() then 1 else r.hits + 1 end,
          window_ends = case when r.window_ends <= now() then excluded.window_ends else r.window_ends end
        returning hits, greatest(0, ceil(extract(epoch from window_ends - now()) * 1000))::int as ttl_ms`,
        )
        .then(
          (row) => callback(null, { current: row.hits, ttl: row.ttl_ms }),
          (err: Error) => callback(err),
        );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
