import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { ErrorResponse, type App } from '../../core/adapters/http.ts';
import type { Freshness } from '../freshness.ts';

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

/** The caller's pending invitations: those to their own address, of tenants that still exist. */
export async function invitationQueryRoutes(app: App, options: { pool: DatabasePool; freshness: Freshness }): Promise<void> {
  const { pool, freshness } = options;
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/api/users/me/invitations',
    {
      schema: {
        tags: ['invitations'],
        summary: "The caller's pending invitations (accept or decline them on the command API)",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                tenantId: Type.String(),
                tenantName: Type.String(),
                role: Role,
                invitedBy: Type.Object({ id: Type.String(), displayName: Type.Union([Type.String(), Type.Null()]) }),
                invitedAt: Type.String(),
              }),
            ),
          }),
          401: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request) => {
      await freshness.projection(request, 'main');
      const rows = await pool.any(sql.type(InvitationRow)`
      select i.invitation_id, i.tenant_id, t.name as tenant_name, i.role, i.invited_by, inviter.display_name as invited_by_name,
             to_json(i.invited_at)#>>'{}' as invited_at
      from users me
      join invitations i on i.email = me.email and i.status = 'pending'
      join tenants t on t.tenant_id = i.tenant_id and t.status <> 'deleted'
      left join users inviter on inviter.user_id = i.invited_by
      where me.user_id = ${request.actor.userId}
        and not exists (select 1 from memberships m where m.tenant_id = i.tenant_id and m.user_id = me.user_id)
      order by i.invited_at, i.invitation_id`);
      return {
        items: rows.map((r) => ({
          id: r.invitation_id,
          tenantId: r.tenant_id,
          tenantName: r.tenant_name,
          role: r.role,
          invitedBy: { id: r.invited_by, displayName: r.invited_by_name },
          invitedAt: r.invited_at,
        })),
      };
    },
  );
}
