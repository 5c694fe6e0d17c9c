// Where PostgreSQL's time goes during a scenario: pg_stat_statements (loaded by scripts/infra.sh's
// ledgerline.conf) reset before it and read after it, the statements with the most execution time.
import pg from 'pg';

export type StatementTime = { query: string; calls: number; totalMs: number; meanMs: number; rows: number };

async function onMain<T>(databaseUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } catch {
    return undefined; // a cluster started before the library was configured: no statement times
  } finally {
    await client.end();
  }
}

/** Resets the counters; `stop()` gives the `top` statements by total execution time since (all databases). */
export async function measureStatements(databaseUrl: string, top = 10): Promise<{ stop: () => Promise<StatementTime[]> }> {
  const available = await onMain(databaseUrl, async (client) => {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select pg_stat_statements_reset()');
    return true;
  });
  return {
    stop: async () =>
      available
        ? ((await onMain(databaseUrl, async (client) => {
            const { rows } = await client.query(
              `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls::int, total_exec_time as total, mean_exec_time as mean, rows::int
               from pg_stat_statements order by total_exec_time desc limit $1`,
              [top],
            );
            return rows.map((r) => ({
              query: String(r.query).slice(0, 160),
              calls: r.calls as number,
              totalMs: Math.round(r.total as number),
              meanMs: Number((r.mean as number).toFixed(3)),
              rows: r.rows as number,
            }));
          })) ?? [])
        : [],
  };
}
