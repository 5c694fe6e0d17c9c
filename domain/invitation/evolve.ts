import type { Role } from '../shared/roles.ts';
import type { InvitationEvent } from './events.ts';

type Invitation = { invitationId: string; tenantId: string; email: string; role: Role; invitedBy: string };

export type InvitationState =
  | { status: 'initial' }
  | ({ status: 'pending' } & Invitation)
  | ({ status: 'accepted'; userId: string } & Invitation)
  | ({ status: 'declined'; userId: string } & Invitation);

export const initialInvitationState = (): InvitationState => ({ status: 'initial' });

export function evolveInvitation(state: InvitationState, event: InvitationEvent): InvitationState {
  switch (event.type) {
    case 'MemberInvited': {
      const { invitationId, tenantId, email, role, invitedBy } = event.data;
      return { status: 'pending', invitationId, tenantId, email, role, invitedBy };
    }
    case 'InvitationAccepted':
      return state.status === 'initial' ? state : { ...state, status: 'accepted', userId: event.data.userId };
    case 'InvitationDeclined':
      return state.status === 'initial' ? state : { ...state, status: 'declined', userId: event.data.userId };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
