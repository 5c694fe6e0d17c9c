import { Type } from 'typebox';
import type { Config } from '../adapters/config.ts';
import { sql, rowSchema, type DatabasePool } from '../adapters/db.ts';
import type { Logger } from '../adapters/logger.ts';

export type PurgeCounts = { sessions: number; refreshTokens: number; idempotencyKeys: number; outbox: number; rateLimits: number };

const CountRow = rowSchema(Type.Object({ n: Type.Number() }));
/** Rows deleted per statement: short transactions, so a large backlog never holds long locks. */
const BATCH = 5000;

/**
 * Deletes what no request can use any more: ended sessions (expired, or revoked a day ago: the
 * day keeps a reused refresh token answering REFRESH_TOKEN_REUSED for a while), expired refresh
 * tokens, idempotency answers past their 24 h, and outbox rows published longer ago than the
 * retention (the events themselves stay forever), and rate-limit windows that ended. Running it twice at once is harmless (each
 * delete is idempotent); an advisory lock still keeps one instance doing the work at a time.
 */
export async function purgeExpired(pool: DatabasePool, config: Pick<Config, 'PUBLISHED_OUTBOX_RETENTION_SECONDS'>): Promise<PurgeCounts | null> {
  return pool.connect(async (connection) => {
    const leader = await connection.oneFirst(sql.unsafe`select pg_try_advisory_lock(hashtext('ledgerline.purge')) as leader`);
    if (!leader) return null;
    try {
      const drain = async (deleteBatch: () => Promise<number>) => {
        let total = 0;
        for (;;) {
          const n = await deleteBatch();
          total += n;
          if (n < BATCH) return total;
        }
      };
      const refreshTokens = await drain(() =>
        connection.oneFirst(sql.type(CountRow)`
        with gone as (delete from refresh_tokens where token_hash in (
          select token_hash from refresh_tokens where expires_at < now() limit ${BATCH}) returning 1)
        select count(*)::int as n from gone`),
      );
      const sessions = await drain(() =>
        connection.oneFirst(sql.type(CountRow)`
        with gone as (delete from sessions where session_id in (
          select session_id from sessions where expires_at < now() or revoked_at < now() - interval '1 day' limit ${BATCH}) returning 1)
        select count(*)::int as n from gone`),
      );
      const idempotencyKeys = await drain(() =>
        connection.oneFirst(sql.type(CountRow)`
        with gone as (delete from idempotency_keys where (actor, key) in (
          select actor, key from idempotency_keys where created_at <= now() - interval '24 hours' limit ${BATCH}) returning 1)
        select count(*)::int as n from gone`),
      );
      const outbox = await drain(() =>
        connection.oneFirst(sql.type(CountRow)`
        with gone as (delete from outbox where global_position in (
          select global_position from outbox
          where published_at is not null and published_at < now() - make_interval(secs => ${config.PUBLISHED_OUTBOX_RETENTION_SECONDS})
          limit ${BATCH}) returning 1)
        select count(*)::int as n from gone`),
      );
      const rateLimits = await drain(() =>
        connection.oneFirst(sql.type(CountRow)`
        with gone as (delete from rate_limits where key in (
          select key from rate_limits where window_ends < now() limit ${BATCH}) returning 1)
        select count(*)::int as n from gone`),
      );
      return { sessions, refreshTokens, idempotencyKeys, outbox, rateLimits };
    } finally {
      await connection.query(sql.unsafe`select pg_advisory_unlock(hashtext('ledgerline.purge'))`);
    }
  });
}

/** Runs purgeExpired now and then every PURGE_INTERVAL_SECONDS, in the command API process. */
export function startPurger(options: { pool: DatabasePool; config: Config; logger: Logger }): { stop: () => Promise<void> } {
  const { pool, config, logger } = options;
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = purgeExpired(pool, config)
      .then((counts) => {
        if (counts) logger.info({ purged: counts }, 'expired rows purged');
      })
      .catch((err: unknown) => logger.warn({ err }, 'purge failed; retried at the next interval'));
  };
  run();
  const timer = setInterval(run, config.PURGE_INTERVAL_SECONDS * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
