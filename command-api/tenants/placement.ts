import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool } from '../../core/adapters/db.ts';

const ServerCount = rowSchema(Type.Object({ server: Type.String(), tenants: Type.Number() }));

/**
 * Live tenants on each configured server (the main projector's placement map), for CreateTenant
 * to place a new tenant on the least used one. Servers no tenant uses yet count 0; a server that
 * is no longer configured is left out, so nothing new lands there. The map lags the log by the
 * main projector's delay: a burst of creations may land a few tenants more on one server.
 */
export async function tenantsPerServer(pool: DatabasePool, servers: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(servers.map((server) => [server, 0]));
  const rows = await pool.any(sql.type(ServerCount)`select server, count(*)::int as tenants from tenant_placements group by server`);
  for (const row of rows) {
    if (Object.hasOwn(counts, row.server)) counts[row.server] = row.tenants;
  }
  return counts;
}
