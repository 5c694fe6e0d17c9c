import { Type } from 'typebox';
import { passwordHashOf, removeCredentials } from '../auth/credentials.ts';
import { revokeAllSessions } from '../../core/adapters/sessions.ts';
import type { App } from '../../core/adapters/http.ts';
import { httpError } from '../../core/adapters/http.ts';
import type { DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { decision, executeCommand, loadStream, streamRef, type EventStreams, type Loaded, type StreamRef } from '../../core/eventing/command-handler.ts';
import { eraseUserKeys, eraseUserKeysInTenant, tenantsWithContentBy } from '../../core/eventing/subject-keys.ts';
import { userDecider, userStreamId, type UserState } from '../../domain/user/index.ts';
import { tenantErasureDecider, tenantErasureStreamId } from '../../domain/erasure/index.ts';
import { roleOf } from '../../domain/membership/index.ts';
import { answerCommand } from '../answer-command.ts';
import { accessFrom, requireRole, tenantReads } from '../tenants/access.ts';
import type { Passwords } from '../auth/passwords.ts';
import { CommandAccepted, ErrorResponse } from '../schemas.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const MemberParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), userId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

/**
 * Erasure by crypto-shredding (README "Erasure"): the subject's keys are deleted in the
 * transaction that appends the erasure event, so from that commit on their sealed fields read
 * as erased everywhere, and every read model scrubs what it copied when it meets the event.
 */
export async function erasureRoutes(app: App, options: { store: EventStreams; passwords: Passwords }): Promise<void> {
  const { store, passwords } = options;

  app.post(
    '/api/users/me/erase',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['users'],
        ...secured,
        summary: 'Erase my account: my personal data reads as erased everywhere, my sessions end, I cannot log in again',
        body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { userId } = request.actor;
      const hash = await passwordHashOf(store.pool, userId);
      if (!(await passwords.verify(request.body.password, hash))) throw httpError(401, 'INVALID_CREDENTIALS', 'the password is wrong');
      const user = await loadStream(store, streamRef(userDecider, userStreamId(userId)));
      if (user.state.status !== 'registered') throw httpError(404, 'USER_NOT_FOUND', 'user not found');
      const now = new Date().toISOString();
      // What the user wrote in each tenant first, one tenant at a time (a tenant's events carry its id);
      // a crash in between leaves the rest for a retry, which finds the remaining keys.
      for (const tenantId of await tenantsWithContentBy(store.pool, userId)) {
        await executeCommand(
          store,
          [
            decision(
              tenantErasureDecider,
              tenantErasureStreamId(tenantId, userId),
              {
                type: 'EraseInTenant',
                data: { tenantId, userId, erasedBy: userId, scope: 'content', now },
              },
              { anyVersion: true },
            ),
          ],
          { tenantId, actor: userId, correlationId: request.id, causationId: null, occurredAt: new Date() },
          {
            respond: () => undefined,
            inTransaction: async (tx) => {
              await eraseUserKeysInTenant(tx, tenantId, userId, null);
            },
          },
        );
      }
      const emailHash = store.emailKey(user.state.email);
      return answerCommand(store, request, reply, {
        actor: userId,
        tenantId: null,
        decisions: [decision(userDecider, userStreamId(userId), { type: 'EraseUser', data: { userId, actorId: userId, now } }, { ifMatch: user.version })],
        alsoInTransaction: async (tx) => {
          await eraseUserKeys(tx, userId, emailHash);
          await endAccount(tx, userId);
        },
        answer: (result) => ({ statusCode: 202, body: { id: userId }, version: result.versions[userStreamId(userId)] }),
      });
    },
  );

  app.post(
    '/api/tenants/:tenantId/users/:userId/erase',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['members'],
        ...secured,
        params: MemberParams,
        summary: 'Erase what a member left in this tenant (admin): what they wrote, and invitations to their address, read as erased',
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, userId } = request.params;
      let emailHash: string | null = null;
      const streamId = tenantErasureStreamId(tenantId, userId);
      return answerCommand(store, request, reply, {
        actor: request.actor.userId,
        tenantId,
        decisions: {
          reads: [...tenantReads(tenantId), streamRef(userDecider, userStreamId(userId)) as StreamRef<unknown>],
          decide: (loaded) => {
            const access = accessFrom(loaded, tenantId, request.actor.userId);
            requireRole(access, ['admin']);
            if (roleOf(access.members, userId) === null) throw httpError(404, 'MEMBER_NOT_FOUND', 'no such member');
            const user = loaded.get(userStreamId(userId)) as Loaded<UserState>;
            emailHash = user.state.status === 'registered' ? store.emailKey(user.state.email) : null;
            return [
              decision(
                tenantErasureDecider,
                streamId,
                {
                  type: 'EraseInTenant',
                  data: { tenantId, userId, erasedBy: request.actor.userId, scope: 'member', now: new Date().toISOString() },
                },
                { anyVersion: true },
              ),
            ];
          },
        },
        alsoInTransaction: async (tx) => {
          await eraseUserKeysInTenant(tx, tenantId, userId, emailHash);
        },
        answer: () => ({ statusCode: 202, body: { id: userId } }),
      });
    },
  );
}

/** No way back in: the password goes and every session ends (each API instance hears of it). */
async function endAccount(tx: DatabaseTransactionConnection, userId: string): Promise<void> {
  await removeCredentials(tx, userId);
  await revokeAllSessions(tx, userId, 'erased');
}
