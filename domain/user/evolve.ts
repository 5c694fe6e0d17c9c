import type { UserEvent } from './events.ts';

export type UserState =
  | { status: 'initial' }
  | {
      status: 'registered';
      userId: string;
      email: string;
      displayName: string;
      registeredAt: string;
      passwordChangedAt: string | null;
    }
  | { status: 'erased'; userId: string };

export const initialUserState = (): UserState => ({ status: 'initial' });

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'registered', ...event.data, passwordChangedAt: null };
    case 'UserPasswordChanged':
      return state.status === 'registered' ? { ...state, passwordChangedAt: event.data.changedAt } : state;
    case 'UserProfileUpdated':
      return state.status === 'registered' ? { ...state, displayName: event.data.displayName } : state;
    case 'SubjectErased':
      // Only the whole account's erasure is on the user's stream; nothing of the account is kept.
      return event.data.tenantId === null ? { status: 'erased', userId: event.data.userId } : state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
