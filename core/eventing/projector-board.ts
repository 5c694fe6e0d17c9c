import { sql, type DatabasePool } from '../adapters/db.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Metrics } from '../adapters/metrics.ts';
import type { Projection, ScopeState } from './projector.ts';

/**
 * The set-aside scopes of one projection, in the main database's projection_set_aside table,
 * so an operator sees them (`npm run projections -- list`) whichever process holds them, and
 * asks for a retry (`retry <scope>`) that the projector's sweep picks up within a second.
 * Writes happen only when a scope's state changes; a failed write is logged, never fatal.
 */
export function setAsideBoard(pool: DatabasePool, projection: string, logger: Logger) {
  const known = new Set<string>();
  const safely = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      logger.warn({ err, projection }, `set-aside board: ${what} failed`);
    }
  };
  return {
    async recorded(): Promise<string[]> {
      const scopes = (await pool.anyFirst(sql.unsafe`select scope from projection_set_aside where projection = ${projection}`)).map(String);
      for (const scope of scopes) known.add(scope);
      return scopes;
    },
    record: (scope: string, state: ScopeState) =>
      safely('record', async () => {
        known.add(scope);
        await pool.query(sql.unsafe`
        insert into projection_set_aside (projection, scope, state, reason, failures, since, retry_at)
        values (${projection}, ${scope}, ${state.state}, ${state.error ?? null}, ${state.failures ?? 0}, ${state.since}, ${state.retryAt ?? null})
        on conflict (projection, scope) do update set state = excluded.state, reason = excluded.reason, failures = excluded.failures,
          retry_at = excluded.retry_at, updated_at = now()`);
      }),
    clear: async (scope: string) => {
      if (!known.delete(scope)) return;
      await safely('clear', () => pool.query(sql.unsafe`delete from projection_set_aside where projection = ${projection} and scope = ${scope}`));
    },
    async takeRetryRequests(): Promise<string[]> {
      try {
        return (
          await pool.anyFirst(sql.unsafe`
          update projection_set_aside set retry_requested_at = null
          where projection = ${projection} and retry_requested_at is not null returning scope`)
        ).map(String);
      } catch (err) {
        logger.warn({ err, projection }, 'set-aside board: reading retry requests failed');
        return [];
      }
    },
  };
}

/** Every `intervalMs`, each scope's lag (events, seconds) into the projector's /metrics. */
export function trackLag(projection: Projection, metrics: Metrics, logger: Logger, intervalMs: number): NodeJS.Timeout {
  const events = metrics.gauge('projector_scope_lag_events', 'Events in the store a projection scope has not applied yet');
  const seconds = metrics.gauge('projector_scope_lag_seconds', 'Age of the oldest event a projection scope has not applied yet');
  let shown = new Set<string>();
  let running = false;
  const measure = async () => {
    if (running || !projection.lag) return;
    running = true;
    try {
      const lag = await projection.lag();
      // A scope that caught up is shown as 0, not left at its last value.
      for (const scope of shown) if (!(scope in lag)) lag[scope] = { events: 0, seconds: 0 };
      for (const [scope, value] of Object.entries(lag)) {
        events.set(value.events, { projection: projection.name, scope });
        seconds.set(value.seconds, { projection: projection.name, scope });
      }
      shown = new Set(
        Object.entries(lag)
          .filter(([, v]) => v.events > 0)
          .map(([scope]) => scope),
      );
    } catch (err) {
      logger.warn({ err, projection: projection.name }, 'measuring projection lag failed');
    } finally {
      running = false;
    }
  };
  void measure();
  const timer = setInterval(() => {
    void measure();
  }, intervalMs);
  timer.unref();
  return timer;
}
