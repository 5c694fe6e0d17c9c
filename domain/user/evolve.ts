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
    };

export const initialUserState = (): UserState => ({ status: 'initial' });

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      return { status: 'registered', ...event.data, passwordChangedAt: null };
    case 'UserPasswordChanged':
      return state.status === 'registered' ? { ...state, passwordChangedAt: event.data.changedAt } : state;
    case 'UserProfileUpdated':
      return state.status === 'registered' ? { ...state, displayName: event.data.displayName } : state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
