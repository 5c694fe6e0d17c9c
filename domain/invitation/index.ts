import type { Decider } from '../shared/decider.ts';
import type { InvitationCommand } from './commands.ts';
import { decideInvitation } from './decide.ts';
import type { InvitationEvent } from './events.ts';
import { evolveInvitation, initialInvitationState, type InvitationState } from './evolve.ts';

/** One stream per invitation: an admin's offer of a role, answered by the holder of the address. */
export const invitationStreamId = (invitationId: string): string => `invitation-${invitationId}`;

export const invitationDecider: Decider<InvitationCommand, InvitationEvent, InvitationState> = {
  initialState: initialInvitationState,
  decide: decideInvitation,
  evolve: evolveInvitation,
};

export * from './commands.ts';
export * from './events.ts';
export { decideInvitation } from './decide.ts';
export { evolveInvitation, initialInvitationState, type InvitationState } from './evolve.ts';
