import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { httpError } from '../../core/adapters/http.ts';
import { createInvalidatedCache, type Invalidations } from '../../core/eventing/invalidation.ts';

const TenantRow = Type.Object({
  tenant_id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  status: Type.String(),
  database_name: Type.String(),
  server: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]),
  created_at: Type.String(),
  provisioned_at: Type.Union([Type.String(), Type.Null()]),
  version: Type.Number(),
});
export type TenantMembership = Static<typeof TenantRow>;
const tenantRow = rowSchema(TenantRow);

export const TENANT_COLUMNS = sql.fragment`t.tenant_id, t.name, t.slug, t.status, t.database_name, t.server, m.role,
  to_json(t.created_at)#>>'{}' as created_at, to_json(t.provisioned_at)#>>'{}' as provisioned_at, t.version`;

/**
 * Membership reads of the query side. The caller's membership is checked on every request, so
 * it is served from memory, invalidated by the memberships and tenants triggers (core/eventing/
 * invalidation.ts); a request that asks for its own writes (X-Min-Position) reads it afresh.
 */
export function createMembershipQueries(pool: DatabasePool, invalidations: Invalidations) {
  const cache = createInvalidatedCache<TenantMembership | null>(invalidations, (key) => {
    const [tenantId] = key.split(':');
    return [`membership:${key}`, `tenant:${tenantId}`];
  });
  const load = (tenantId: string, userId: string) =>
    pool.maybeOne(sql.type(tenantRow)`
    select ${TENANT_COLUMNS} from tenants t join memberships m on m.tenant_id = t.tenant_id and m.user_id = ${userId}
    where t.tenant_id = ${tenantId} and t.status <> 'deleted'`);
  return {
    /** The caller's membership of a live tenant; anything else is the same 404, so nothing leaks. */
    async memberOf(tenantId: string, userId: string, options: { fresh?: boolean } = {}): Promise<TenantMembership> {
      const row = options.fresh ? await load(tenantId, userId) : await cache.get(`${tenantId}:${userId}`, () => load(tenantId, userId));
      if (!row) throw httpError(404, 'TENANT_NOT_FOUND', 'no such tenant');
      return row;
    },
    tenantsOf(userId: string): Promise<readonly TenantMembership[]> {
      return pool.any(sql.type(tenantRow)`
        select ${TENANT_COLUMNS} from tenants t join memberships m on m.tenant_id = t.tenant_id and m.user_id = ${userId}
        where t.status <> 'deleted' order by t.created_at, t.tenant_id`);
    },
  };
}

export type MembershipQueries = ReturnType<typeof createMembershipQueries>;

export function tenantView(row: TenantMembership) {
  return {
    id: row.tenant_id,
    name: row.name,
    slug: row.slug,
    status: row.status as 'provisioning' | 'active',
    role: row.role,
    createdAt: row.created_at,
    provisionedAt: row.provisioned_at,
    version: row.version,
  };
}
