import { Type, type Static } from 'typebox';
import type { Decider } from '../shared/decider.ts';
import { ConflictError } from '../shared/errors.ts';
import { defineCommand, defineEvent, Uuid } from '../shared/message.ts';
import { requireValidEmail } from './email.ts';

/**
 * One stream per address: the first EmailClaimed wins, which makes emails unique without a lock.
 * The stream is named by the address's keyed hash (HMAC of the normalised address, computed
 * outside the domain), never the address: stream ids are on the log and in Kafka keys for good.
 */
export const emailClaimStreamId = (emailKey: string): string => `user-email-${emailKey}`;

export const ClaimEmailCommand = defineCommand('ClaimEmail', { email: Type.String(), userId: Uuid() });
export type ClaimEmail = Static<typeof ClaimEmailCommand>;

export const EmailClaimedEvent = defineEvent('EmailClaimed', { email: Type.String({ maxLength: 254 }), userId: Uuid() });
export type EmailClaimed = Static<typeof EmailClaimedEvent>;

export type EmailClaimState = { status: 'initial' } | { status: 'claimed'; email: string; userId: string };

export function decideEmailClaim(command: ClaimEmail, state: EmailClaimState): EmailClaimed[] {
  const email = requireValidEmail(command.data.email);
  switch (state.status) {
    case 'initial':
      return [{ type: 'EmailClaimed', data: { email, userId: command.data.userId } }];
    case 'claimed':
      if (state.userId === command.data.userId) return [];
      throw new ConflictError('EMAIL_TAKEN', 'this email address is already registered');
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

export function evolveEmailClaim(state: EmailClaimState, event: EmailClaimed): EmailClaimState {
  return state.status === 'initial' ? { status: 'claimed', ...event.data } : state;
}

export const emailClaimDecider: Decider<ClaimEmail, EmailClaimed, EmailClaimState> = {
  initialState: () => ({ status: 'initial' }),
  decide: decideEmailClaim,
  evolve: evolveEmailClaim,
};
