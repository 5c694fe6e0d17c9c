import { Type } from 'typebox';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { ErrorResponse, httpError, type App } from '../../core/adapters/http.ts';
import type { Freshness } from '../freshness.ts';
import { tenantView, type MembershipQueries } from './access.ts';
import { createPeopleQueries } from './people-queries.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 504: ErrorResponse };
const Role = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  status: Type.Union([Type.Literal('provisioning'), Type.Literal('active')]),
  role: Role,
  createdAt: Type.String(),
  provisionedAt: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
});
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

export async function tenantQueryRoutes(app: App, options: { pool: DatabasePool; freshness: Freshness; memberships: MembershipQueries }): Promise<void> {
  const { freshness, memberships } = options;
  const people = createPeopleQueries(options.pool);
  const memberOf = (request: { headers: Record<string, unknown>; actor: { userId: string } }, tenantId: string) =>
    memberships.memberOf(tenantId, request.actor.userId, { fresh: request.headers['x-min-position'] !== undefined });
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/api/users/me',
    {
      schema: {
        tags: ['users'],
        summary: 'The caller',
        ...secured,
        response: { 200: Type.Object({ id: Type.String(), email: Type.String(), displayName: Type.String(), registeredAt: Type.String() }), ...errors },
      },
    },
    async (request) => {
      await freshness.projection(request, 'main');
      const user = await people.findUser(request.actor.userId);
      if (!user) throw httpError(404, 'USER_NOT_FOUND', 'the account is not in the read model yet; send X-Min-Position from your last command');
      return { id: user.user_id, email: user.email, displayName: user.display_name, registeredAt: user.registered_at };
    },
  );

  app.get(
    '/api/tenants',
    {
      schema: { tags: ['tenants'], summary: "The caller's tenants", ...secured, response: { 200: Type.Object({ items: Type.Array(Tenant) }), ...errors } },
    },
    async (request) => {
      await freshness.projection(request, 'main');
      return { items: (await memberships.tenantsOf(request.actor.userId)).map(tenantView) };
    },
  );

  app.get(
    '/api/tenants/:tenantId',
    {
      schema: { tags: ['tenants'], summary: 'One tenant (members only)', ...secured, params: TenantParams, response: { 200: Tenant, ...errors } },
    },
    async (request, reply) => {
      await freshness.projection(request, 'main');
      const tenant = tenantView(await memberOf(request, request.params.tenantId));
      reply.header('etag', `"${tenant.version}"`);
      return tenant;
    },
  );

  app.get(
    '/api/tenants/:tenantId/users',
    {
      schema: {
        tags: ['members'],
        summary: "The tenant's members (members only)",
        ...secured,
        params: TenantParams,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ id: Type.String(), email: Type.String(), displayName: Type.String(), role: Role, addedAt: Type.String() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      await freshness.projection(request, 'main');
      await memberOf(request, request.params.tenantId);
      const rows = await people.listMembers(request.params.tenantId);
      return { items: rows.map((r) => ({ id: r.user_id, email: r.email, displayName: r.display_name, role: r.role, addedAt: r.added_at })) };
    },
  );
}
