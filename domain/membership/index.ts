import type { Decider } from '../shared/decider.ts';
import type { MembershipCommand } from './commands.ts';
import { decideMembership } from './decide.ts';
import type { MembershipEvent } from './events.ts';
import { evolveMembership, initialMembershipState, type MembershipState } from './evolve.ts';

/** One stream per tenant's member list: the consistency boundary of the last-admin rule. */
export const membershipStreamId = (tenantId: string): string => `tenant-${tenantId}-members`;

export const membershipDecider: Decider<MembershipCommand, MembershipEvent, MembershipState> = {
  initialState: initialMembershipState,
  decide: decideMembership,
  evolve: evolveMembership,
};

export * from './commands.ts';
export * from './events.ts';
export { decideMembership } from './decide.ts';
export { adminCount, evolveMembership, initialMembershipState, roleOf, type Member, type MembershipState } from './evolve.ts';
