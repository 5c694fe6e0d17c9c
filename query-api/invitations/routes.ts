import { Type } from 'typebox';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { createInvitationQueries } from './invitation-queries.ts';
import { ErrorResponse, type App } from '../../core/adapters/http.ts';
import type { Freshness } from '../freshness.ts';

const Role = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
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
      const rows = await createInvitationQueries(pool).pendingFor(request.actor.userId);
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
