import { sql, type DatabasePool } from '../../core/adapters/db.ts';

/**
 * How many live (not deleted) tenants a user has created, from the event store itself, for the
 * quota CreateTenant checks. Two creations racing past the quota at once can both pass: the
 * quota is a guard against runaway creation, not an exact count.
 */
export async function liveTenantsCreatedBy(pool: DatabasePool, userId: string): Promise<number> {
  return Number(
    await pool.oneFirst(sql.unsafe`
    select count(*) from events c
    where c.type = 'TenantCreated' and c.data->>'createdBy' = ${userId}
      and not exists (select 1 from events d where d.stream_id = c.stream_id and d.type = 'TenantDeleted')`),
  );
}
