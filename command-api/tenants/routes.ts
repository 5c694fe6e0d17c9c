import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { App } from '../../core/adapters/http.ts';
import { decision, type EventStreams, type Decision } from '../../core/eventing/command-handler.ts';
import {
  requireValidSlug,
  slugClaimDecider,
  slugClaimStreamId,
  tenantDatabaseName,
  tenantDecider,
  tenantStreamId,
  type TenantCommand,
} from '../../domain/tenant/index.ts';
import { membershipDecider, membershipStreamId, type MembershipCommand } from '../../domain/membership/index.ts';
import { invitationDecider, invitationStreamId } from '../../domain/invitation/index.ts';
import { RoleSchema } from '../../domain/shared/roles.ts';
import { answerCommand, ifMatchVersion, type CommandAnswer } from '../answer-command.ts';
import { CommandAccepted, ErrorResponse, TenantParams } from '../schemas.ts';
import { accessFrom, requireRole, tenantReads, type TenantAccess } from './access.ts';
import { liveTenantsCreatedBy } from './quota.ts';
import { tenantsPerServer } from './placement.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { eraseTenantKeys } from '../../core/eventing/subject-keys.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const MemberParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), userId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

export async function tenantRoutes(app: App, options: { store: EventStreams; tenantQuota: number; tenantServers: string[] }): Promise<void> {
  const { store, tenantQuota, tenantServers } = options;
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/api/tenants',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant; the caller becomes its admin; its database is provisioned asynchronously',
        ...secured,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            slug: Type.String({ minLength: 1, maxLength: 63 }),
            server: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 40,
                description: 'The tenant server (TENANT_SERVERS) to place its database on; default: the one with the fewest tenants',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const tenantId = randomUUID();
      const actorId = request.actor.userId;
      const { name, slug, server } = request.body;
      // Before tenantDatabaseName(slug) below, which would refuse a bad slug as INVALID_DATABASE_NAME.
      requireValidSlug(slug);
      const [tenantsOfActor, perServer] = await Promise.all([liveTenantsCreatedBy(store.pool, actorId), tenantsPerServer(store.pool, tenantServers)]);
      return answerCommand(store, request, reply, {
        actor: actorId,
        tenantId,
        decisions: [
          decision(slugClaimDecider, slugClaimStreamId(slug), { type: 'ClaimSlug', data: { slug, tenantId } }),
          decision(tenantDecider, tenantStreamId(tenantId), {
            type: 'CreateTenant',
            data: {
              tenantId,
              name,
              slug,
              databaseName: tenantDatabaseName(slug, tenantId),
              actorId,
              now: new Date().toISOString(),
              tenantsOfActor,
              tenantQuota,
              tenantsPerServer: perServer,
              ...(server === undefined ? {} : { server }),
            },
          }),
          decision(membershipDecider, membershipStreamId(tenantId), { type: 'AddFounder', data: { tenantId, userId: actorId } }),
        ],
        answer: (result) => ({ statusCode: 202, body: { id: tenantId }, version: result.versions[tenantStreamId(tenantId)] }),
      });
    },
  );

  app.put(
    '/api/tenants/:tenantId',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Rename a tenant (admin)',
        ...secured,
        params: TenantParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) =>
      tenantCommand(request, reply, request.params.tenantId, 200, (access) => ({
        type: 'RenameTenant' as const,
        data: { name: request.body.name, actorRole: access.role },
      })),
  );

  app.delete(
    '/api/tenants/:tenantId',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Delete a tenant and, once the read side lets go, its database (admin)',
        ...secured,
        params: TenantParams,
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) =>
      tenantCommand(
        request,
        reply,
        request.params.tenantId,
        202,
        (access) => ({
          type: 'DeleteTenant' as const,
          data: { actorId: request.actor.userId, actorRole: access.role, now: new Date().toISOString() },
        }),
        (tx) => eraseTenantKeys(tx, request.params.tenantId),
      ),
  );

  app.post(
    '/api/tenants/:tenantId/users',
    {
      schema: {
        tags: ['members'],
        ...secured,
        params: TenantParams,
        summary:
          'Invite an email address to join with a role (admin); the invitee accepts (POST /api/users/me/invitations/{id}/accept). ' +
          'The answer is the same whether or not the address has an account.',
        body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }), role: RoleSchema }, { additionalProperties: false }),
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params;
      const invitationId = randomUUID();
      return adminCommand(
        request,
        reply,
        tenantId,
        (access) =>
          decision(invitationDecider, invitationStreamId(invitationId), {
            type: 'InviteMember',
            data: {
              invitationId,
              tenantId,
              email: request.body.email,
              role: request.body.role,
              actorId: request.actor.userId,
              actorRole: access.role,
              tenantStatus: access.tenant.status,
              now: new Date().toISOString(),
            },
          }),
        (versions) => ({ statusCode: 202, body: { id: invitationId }, version: versions[invitationStreamId(invitationId)] }),
      );
    },
  );

  app.put(
    '/api/tenants/:tenantId/users/:userId',
    {
      schema: {
        tags: ['members'],
        summary: "Change a member's role (admin)",
        ...secured,
        params: MemberParams,
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, userId } = request.params;
      return memberCommand(request, reply, tenantId, userId, (facts) => ({ type: 'ChangeMemberRole', data: { ...facts, role: request.body.role } }), 200);
    },
  );

  app.delete(
    '/api/tenants/:tenantId/users/:userId',
    {
      schema: { tags: ['members'], summary: 'Remove a member (admin)', ...secured, params: MemberParams, response: { 200: CommandAccepted, ...errors } },
    },
    async (request, reply) => {
      const { tenantId, userId } = request.params;
      return memberCommand(request, reply, tenantId, userId, (facts) => ({ type: 'RemoveMember', data: facts }), 200);
    },
  );

  /** An admin's command on the tenant: access and the decision from one read of its streams. */
  function adminCommand(
    request: FastifyRequest,
    reply: FastifyReply,
    tenantId: string,
    decide: (access: TenantAccess) => Decision,
    answer: (versions: Record<string, number>) => CommandAnswer,
    alsoInTransaction?: (tx: DatabaseTransactionConnection) => Promise<unknown>,
  ) {
    return answerCommand(store, request, reply, {
      actor: request.actor.userId,
      tenantId,
      ...(alsoInTransaction
        ? {
            alsoInTransaction: async (tx: DatabaseTransactionConnection) => {
              await alsoInTransaction(tx);
            },
          }
        : {}),
      decisions: {
        reads: tenantReads(tenantId),
        decide: (loaded) => {
          const access = accessFrom(loaded, tenantId, request.actor.userId);
          requireRole(access, ['admin']);
          return [decide(access)];
        },
      },
      answer: ({ versions }) => answer(versions),
    });
  }

  /** Rename or delete, with If-Match honoured; deleting also deletes the tenant's keys (crypto-shredding) in the same transaction. */
  function tenantCommand(
    request: FastifyRequest,
    reply: FastifyReply,
    tenantId: string,
    statusCode: 200 | 202,
    command: (access: TenantAccess) => TenantCommand,
    alsoInTransaction?: (tx: DatabaseTransactionConnection) => Promise<unknown>,
  ) {
    const ifMatch = ifMatchVersion(request);
    return adminCommand(
      request,
      reply,
      tenantId,
      (access) => decision(tenantDecider, tenantStreamId(tenantId), command(access), { ifMatch }),
      (versions) => ({ statusCode, body: { id: tenantId }, version: versions[tenantStreamId(tenantId)] }),
      alsoInTransaction,
    );
  }

  type MemberFacts = { tenantId: string; actorId: string; userId: string; tenantStatus: TenantAccess['tenant']['status'] };

  function memberCommand(
    request: FastifyRequest,
    reply: FastifyReply,
    tenantId: string,
    userId: string,
    command: (facts: MemberFacts) => MembershipCommand,
    statusCode: 200 | 201,
  ) {
    const ifMatch = ifMatchVersion(request);
    return adminCommand(
      request,
      reply,
      tenantId,
      (access) =>
        decision(
          membershipDecider,
          membershipStreamId(tenantId),
          command({ tenantId, actorId: request.actor.userId, userId, tenantStatus: access.tenant.status }),
          { ifMatch },
        ),
      (versions) => ({ statusCode, body: { id: userId }, version: versions[membershipStreamId(tenantId)] }),
    );
  }
}
