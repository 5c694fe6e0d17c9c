import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool } from '../adapters/db.ts';
import type { ScopeLag } from './projector.ts';

type Filter = ReturnType<typeof sql.fragment>;
const LagRow = rowSchema(Type.Object({ scope: Type.String(), events: Type.Number(), seconds: Type.Number() }));

/** One scope's lag: the events matching `where` after its checkpoint, and the age of the oldest. */
export async function scopeLag(pool: DatabasePool, scope: string, checkpoint: number, where: Filter): Promise<Record<string, ScopeLag>> {
  const row = await pool.one(sql.type(LagRow)`
    select ${scope} as scope, count(*)::int as events, coalesce(extract(epoch from now() - min(occurred_at)), 0)::float8 as seconds
    from events where ${where} and global_position > ${checkpoint}`);
  return { [scope]: { events: row.events, seconds: row.seconds } };
}

/** Per tenant scope (checkpoints by tenant id): the tenant's events matching `where` after its checkpoint. */
export async function tenantScopesLag(pool: DatabasePool, checkpoints: Record<string, number>, where: Filter): Promise<Record<string, ScopeLag>> {
  const tenants = Object.keys(checkpoints);
  if (tenants.length === 0) return {};
  const rows = await pool.any(sql.type(LagRow)`
    select c.tenant_id::text as scope, count(*)::int as events, extract(epoch from now() - min(e.occurred_at))::float8 as seconds
    from unnest(${sql.array(tenants, 'uuid')}, ${sql.array(
      tenants.map((t) => checkpoints[t] ?? 0),
      'int8',
    )}) as c(tenant_id, position)
    join events e on e.tenant_id = c.tenant_id and e.global_position > c.position and ${where}
    group by c.tenant_id`);
  return Object.fromEntries(rows.map((r) => [r.scope, { events: r.events, seconds: r.seconds }]));
}
