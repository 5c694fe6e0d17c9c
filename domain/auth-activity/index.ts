import type { Decider } from '../shared/decider.ts';
import type { AuthActivityCommand } from './commands.ts';
import { decideAuthActivity } from './decide.ts';
import type { AuthActivityEvent } from './events.ts';
import { evolveAuthActivity, initialAuthActivityState, type AuthActivityState } from './evolve.ts';

/** One stream per user: logins, failed logins, logouts, refresh-token reuse. */
export const authActivityStreamId = (userId: string): string => `auth-${userId}`;
/** Failed logins for an email no user has, by the email's pseudonym (never the address itself). */
export const anonymousAuthStreamId = (emailPseudonym: string): string => `auth-anon-${emailPseudonym}`;

export const authActivityDecider: Decider<AuthActivityCommand, AuthActivityEvent, AuthActivityState> = {
  initialState: initialAuthActivityState,
  decide: decideAuthActivity,
  evolve: evolveAuthActivity,
};

export * from './commands.ts';
export * from './events.ts';
export { decideAuthActivity } from './decide.ts';
export { evolveAuthActivity, initialAuthActivityState, type AuthActivityState } from './evolve.ts';
