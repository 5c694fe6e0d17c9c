import type { AuthActivityEvent } from './events.ts';

/**
 * An append-only record has no state a decision depends on: its streams are appended with
 * expectedVersion 'any' and are never folded (their length does not slow a login down).
 */
export type AuthActivityState = { status: 'recording' };

export const initialAuthActivityState = (): AuthActivityState => ({ status: 'recording' });

export function evolveAuthActivity(state: AuthActivityState, _event: AuthActivityEvent): AuthActivityState {
  return state;
}
