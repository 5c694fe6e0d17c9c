import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
const InvitationRow = rowSchema(
  Type.Object({
    invitation_id: Type.String(),
    tenant_id: Type.String(),
    tenant_name: Type.String(),
    role: Role,
    invited_by: Type.String(),
    invited_by_name: Type.Union([Type.String(), Type.Null()]),
    invited_at: Type.String(),
  }),
);

/** The invitations read model (projectors/main writes it). */
export function createInvitationQueries(pool: DatabasePool) {
  return {
    /** A user's pending invitations: to their own address, of tenants that still exist, not yet joined. */
    pendingFor(userId: string) {
      return pool.any(sql.type(InvitationRow)`
      select i.invitation_id, i.tenant_id, t.name as tenant_name, i.role, i.invited_by, inviter.display_name as invited_by_name,
             to_json(i.invited_at)#>>'{}' as invited_at
      from users me
      join invitations i on i.email = me.email and i.status = 'pending'
      join tenants t on t.tenant_id = i.tenant_id and t.status <> 'deleted'
      left join users inviter on inviter.user_id = i.invited_by
      where me.user_id = ${userId}
        and not exists (select 1 from memberships m where m.tenant_id = i.tenant_id and m.user_id = me.user_id)
      order by i.invited_at, i.invitation_id`);
    },
  };
}
