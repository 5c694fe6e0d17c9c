import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors.ts';
import { canManageMembers } from '../shared/roles.ts';
import { normaliseEmail, requireValidEmail } from '../user/email.ts';
import type { AcceptInvitation, DeclineInvitation, InvitationCommand, InviteMember } from './commands.ts';
import type { InvitationEvent } from './events.ts';
import type { InvitationState } from './evolve.ts';

export function decideInvitation(command: InvitationCommand, state: InvitationState): InvitationEvent[] {
  switch (command.type) {
    case 'InviteMember':
      return invite(command, state);
    case 'AcceptInvitation':
      return accept(command, state);
    case 'DeclineInvitation':
      return decline(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function invite({ data }: InviteMember, state: InvitationState): InvitationEvent[] {
  if (state.status !== 'initial') throw new ConflictError('INVITATION_EXISTS', 'this invitation already exists');
  if (data.tenantStatus === 'deleted') throw new ConflictError('TENANT_DELETED', 'this tenant has been deleted');
  if (!canManageMembers(data.actorRole)) throw new ForbiddenError('FORBIDDEN', 'only a tenant admin can invite members');
  const email = requireValidEmail(data.email);
  return [
    {
      type: 'MemberInvited',
      data: { invitationId: data.invitationId, tenantId: data.tenantId, email, role: data.role, invitedBy: data.actorId, invitedAt: data.now },
    },
  ];
}

/**
 * Only the holder of the invited address sees or answers an invitation: to anybody else it does
 * not exist (the same 404 as an unknown id). Answering twice the same way changes nothing.
 */
function requireOwnPending(data: AcceptInvitation['data'], state: InvitationState, answered: 'accepted' | 'declined') {
  if (state.status === 'initial' || state.email !== normaliseEmail(data.userEmail)) {
    throw new NotFoundError('INVITATION_NOT_FOUND', 'no such invitation');
  }
  if (state.status === answered) return null;
  if (state.status !== 'pending') throw new ConflictError('INVITATION_ANSWERED', `this invitation was already ${state.status}`);
  return state;
}

function accept({ data }: AcceptInvitation, state: InvitationState): InvitationEvent[] {
  const pending = requireOwnPending(data, state, 'accepted');
  if (!pending) return [];
  return [{ type: 'InvitationAccepted', data: { invitationId: pending.invitationId, tenantId: pending.tenantId, userId: data.userId, acceptedAt: data.now } }];
}

function decline({ data }: DeclineInvitation, state: InvitationState): InvitationEvent[] {
  const pending = requireOwnPending(data, state, 'declined');
  if (!pending) return [];
  return [{ type: 'InvitationDeclined', data: { invitationId: pending.invitationId, tenantId: pending.tenantId, userId: data.userId, declinedAt: data.now } }];
}
