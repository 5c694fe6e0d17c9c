import { Type } from 'typebox';
import type { App } from '../../core/adapters/http.ts';
import { httpError } from '../../core/adapters/http.ts';
import { decision, loadStream, streamRef, type EventStreams, type Loaded, type StreamRef } from '../../core/eventing/command-handler.ts';
import { invitationDecider, invitationStreamId } from '../../domain/invitation/index.ts';
import { membershipDecider, membershipStreamId } from '../../domain/membership/index.ts';
import { tenantDecider, tenantStatusOf, tenantStreamId, type TenantState } from '../../domain/tenant/index.ts';
import { userDecider, userStreamId } from '../../domain/user/index.ts';
import { answerCommand } from '../answer-command.ts';
import { CommandAccepted, ErrorResponse } from '../schemas.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const InvitationParams = Type.Object({ invitationId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

/** The invitee's answers. Only the holder of the invited address may give them; to others the invitation does not exist. */
export async function invitationRoutes(app: App, options: { store: EventStreams }): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', app.authenticate);

  for (const answer of ['accept', 'decline'] as const) {
    app.post(
      `/api/users/me/invitations/:invitationId/${answer}`,
      {
        schema: {
          tags: ['invitations'],
          ...secured,
          params: InvitationParams,
          response: { 200: CommandAccepted, ...errors },
          summary: answer === 'accept' ? 'Accept an invitation: join the tenant with the invited role' : 'Decline an invitation',
        },
      },
      async (request, reply) => {
        const { invitationId } = request.params;
        const userId = request.actor.userId;
        const invitationRef = streamRef(invitationDecider, invitationStreamId(invitationId));
        const [invitation, user] = await Promise.all([loadStream(store, invitationRef), loadStream(store, streamRef(userDecider, userStreamId(userId)))]);
        if (invitation.state.status === 'initial' || user.state.status !== 'registered') throw httpError(404, 'INVITATION_NOT_FOUND', 'no such invitation');
        const { tenantId, role, invitedBy } = invitation.state;
        const answerData = { invitationId, userId, userEmail: user.state.email, now: new Date().toISOString() };
        const tenantRef = streamRef(tenantDecider, tenantStreamId(tenantId));
        return answerCommand(store, request, reply, {
          actor: userId,
          tenantId,
          decisions: {
            reads: [tenantRef as StreamRef<unknown>],
            decide: (loaded) => {
              const tenantStatus = tenantStatusOf((loaded.get(tenantRef.streamId) as Loaded<TenantState>).state) ?? 'deleted';
              if (answer === 'decline') return [decision(invitationDecider, invitationRef.streamId, { type: 'DeclineInvitation', data: answerData })];
              return [
                decision(invitationDecider, invitationRef.streamId, { type: 'AcceptInvitation', data: answerData }),
                // Accepted before: the invitation decides nothing, and the member list must not be asked again.
                ...(invitation.state.status === 'accepted'
                  ? []
                  : [
                      decision(membershipDecider, membershipStreamId(tenantId), {
                        type: 'JoinByInvitation',
                        data: { tenantId, userId, role, invitedBy, tenantStatus },
                      }),
                    ]),
              ];
            },
          },
          // Accepting answers the member list's version (the ETag for If-Match on member commands).
          answer: ({ versions }) => ({
            statusCode: 200,
            body: { id: invitationId },
            version: (answer === 'accept' ? versions[membershipStreamId(tenantId)] : undefined) ?? versions[invitationRef.streamId] ?? invitation.version,
          }),
        });
      },
    );
  }
}
