import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { App } from '../../platform/http.ts';
import { httpError } from '../../platform/http.ts';
import { readStream } from '../../platform/event-store.ts';
import type { CommandStore } from '../../platform/command-handler.ts';
import { requireValidSlug, slugClaimDecider, slugClaimStreamId, tenantDatabaseName, tenantDecider, tenantStreamId } from '../../domain/tenant/index.ts';
import { membershipDecider, membershipStreamId } from '../../domain/membership/index.ts';
import { emailClaimStreamId } from '../../domain/user/index.ts';
import { RoleSchema } from '../../domain/shared/roles.ts';
import { runCommand, ifMatchVersion } from '../run-command.ts';
import { CommandAccepted, ErrorResponse, TenantParams } from '../schemas.ts';
import { requireRole, tenantAccess, type TenantAccess } from './access.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const MemberParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), userId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

export async function tenantRoutes(app: App, options: { store: CommandStore }): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', app.authenticate);

  app.post('/api/tenants', {
    schema: {
      tags: ['tenants'], summary: 'Create a tenant; the caller becomes its admin; its database is provisioned asynchronously', ...secured,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), slug: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false }),
      response: { 202: CommandAccepted, ...errors },
    },
  }, async (request, reply) => {
    const tenantId = randomUUID();
    const actorId = request.actor.userId;
    const { name, slug } = request.body;
    // Before tenantDatabaseName(slug) below, which would refuse a bad slug as INVALID_DATABASE_NAME.
    requireValidSlug(slug);
    return runCommand(store, request, reply, {
      actor: actorId, tenantId,
      decisions: [
        { streamId: slugClaimStreamId(slug), decider: slugClaimDecider, command: { type: 'ClaimSlug', data: { slug, tenantId } } },
        {
          streamId: tenantStreamId(tenantId), decider: tenantDecider,
          command: { type: 'CreateTenant', data: { tenantId, name, slug, databaseName: tenantDatabaseName(slug, tenantId), actorId, now: new Date().toISOString() } },
        },
        { streamId: membershipStreamId(tenantId), decider: membershipDecider, command: { type: 'AddFounder', data: { tenantId, userId: actorId } } },
      ],
      answer: (result) => ({ statusCode: 202, body: { id: tenantId }, version: result.versions[tenantStreamId(tenantId)] }),
    });
  });

  app.put('/api/tenants/:tenantId', {
    schema: {
      tags: ['tenants'], summary: 'Rename a tenant (admin)', ...secured, params: TenantParams,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: CommandAccepted, ...errors },
    },
  }, async (request, reply) => tenantCommand(request, reply, request.params.tenantId, 200, (access) => ({
    type: 'RenameTenant', data: { name: request.body.name, actorRole: access.role },
  })));

  app.delete('/api/tenants/:tenantId', {
    schema: { tags: ['tenants'], summary: 'Delete a tenant and, once the read side lets go, its database (admin)', ...secured, params: TenantParams, response: { 202: CommandAccepted, ...errors } },
  }, async (request, reply) => tenantCommand(request, reply, request.params.tenantId, 202, (access) => ({
    type: 'DeleteTenant', data: { actorId: request.actor.userId, actorRole: access.role, now: new Date().toISOString() },
  })));

  app.post('/api/tenants/:tenantId/users', {
    schema: {
      tags: ['members'], summary: 'Add a registered user to the tenant by email (admin)', ...secured, params: TenantParams,
      body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }), role: RoleSchema }, { additionalProperties: false }),
      response: { 201: CommandAccepted, ...errors },
    },
  }, async (request, reply) => {
    const { tenantId } = request.params;
    const access = await tenantAccess(store, tenantId, request.actor.userId);
    requireRole(access, ['admin']);
    const claim = (await readStream(store.pool, emailClaimStreamId(request.body.email)))[0];
    if (!claim) throw httpError(404, 'USER_NOT_FOUND', 'no user is registered with this email');
    const userId = (claim.data as { userId: string }).userId;
    return memberCommand(request, reply, tenantId, access.tenant.status, { type: 'AddMember', userId, role: request.body.role }, 201);
  });

  app.put('/api/tenants/:tenantId/users/:userId', {
    schema: {
      tags: ['members'], summary: "Change a member's role (admin)", ...secured, params: MemberParams,
      body: Type.Object({ role: RoleSchema }, { additionalProperties: false }), response: { 200: CommandAccepted, ...errors },
    },
  }, async (request, reply) => {
    const { tenantId, userId } = request.params;
    const access = await tenantAccess(store, tenantId, request.actor.userId);
    requireRole(access, ['admin']);
    return memberCommand(request, reply, tenantId, access.tenant.status, { type: 'ChangeMemberRole', userId, role: request.body.role }, 200);
  });

  app.delete('/api/tenants/:tenantId/users/:userId', {
    schema: { tags: ['members'], summary: 'Remove a member (admin)', ...secured, params: MemberParams, response: { 200: CommandAccepted, ...errors } },
  }, async (request, reply) => {
    const { tenantId, userId } = request.params;
    const access = await tenantAccess(store, tenantId, request.actor.userId);
    requireRole(access, ['admin']);
    return memberCommand(request, reply, tenantId, access.tenant.status, { type: 'RemoveMember', userId }, 200);
  });

  /** An admin's command on the tenant stream itself (rename, delete), with If-Match honoured. */
  async function tenantCommand(request: FastifyRequest, reply: FastifyReply, tenantId: string, statusCode: 200 | 202, command: (access: TenantAccess) => unknown) {
    const access = await tenantAccess(store, tenantId, request.actor.userId);
    requireRole(access, ['admin']);
    const ifMatch = ifMatchVersion(request);
    return runCommand(store, request, reply, {
      actor: request.actor.userId, tenantId,
      decisions: [{ streamId: tenantStreamId(tenantId), decider: tenantDecider, ...(ifMatch === undefined ? {} : { ifMatch }), command: command(access) }],
      answer: (result) => ({ statusCode, body: { id: tenantId }, version: result.versions[tenantStreamId(tenantId)] }),
    });
  }

  type MemberChange = { type: 'AddMember' | 'ChangeMemberRole'; userId: string; role: string } | { type: 'RemoveMember'; userId: string };

  function memberCommand(request: Parameters<typeof runCommand>[1], reply: Parameters<typeof runCommand>[2], tenantId: string, tenantStatus: string, change: MemberChange, statusCode: 200 | 201) {
    const ifMatch = ifMatchVersion(request);
    const { type, ...fields } = change;
    return runCommand(store, request, reply, {
      actor: request.actor.userId, tenantId,
      decisions: [{
        streamId: membershipStreamId(tenantId), decider: membershipDecider, ...(ifMatch === undefined ? {} : { ifMatch }),
        command: { type, data: { tenantId, actorId: request.actor.userId, tenantStatus, ...fields } },
      }],
      answer: (result) => ({ statusCode, body: { id: change.userId }, version: result.versions[membershipStreamId(tenantId)] }),
    });
  }
}
