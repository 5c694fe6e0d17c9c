import type { Decider } from '../shared/decider.ts';
import type { UserCommand } from './commands.ts';
import { decideUser } from './decide.ts';
import type { UserEvent } from './events.ts';
import { evolveUser, initialUserState, type UserState } from './evolve.ts';

export const userStreamId = (userId: string): string => `user-${userId}`;

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  initialState: initialUserState,
  decide: decideUser,
  evolve: evolveUser,
};

export * from './commands.ts';
export * from './events.ts';
export * from './email.ts';
export * from './email-claim.ts';
export { decideUser } from './decide.ts';
export { evolveUser, initialUserState, type UserState } from './evolve.ts';
