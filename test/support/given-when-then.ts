import type { Test } from 'tap';
import type { Decider } from '../../domain/shared/decider.ts';
import { DomainError } from '../../domain/shared/errors.ts';

type DomainErrorClass = abstract new (...args: never[]) => DomainError;

/**
 * given(decider, pastEvents).when(command).then(t, expectedEvents) — or .thenThrows(t, 'CODE').
 * given(decider, pastEvents).thenState(t, expectedState) checks evolve alone.
 */
export function given<Command, Event, State>(decider: Decider<Command, Event, State>, history: readonly NoInfer<Event>[]) {
  const state = () => history.reduce(decider.evolve, decider.initialState());

  return {
    thenState(t: Test, expected: State): void {
      t.same(state(), expected, 'state after the given events');
    },
    when(command: NoInfer<Command>) {
      const run = () => decider.decide(command, state());
      return {
        then(t: Test, expected: readonly Event[]): void {
          t.same(run(), expected, 'decided events');
        },
        thenThrows(t: Test, code: string, errorClass: DomainErrorClass = DomainError): void {
          try {
            const events = run();
            t.fail(`expected ${errorClass.name} ${code}, but the command was accepted`, { events });
          } catch (error) {
            if (!(error instanceof errorClass)) throw error;
            t.equal(error.code, code, `${errorClass.name} code`);
          }
        },
      };
    },
  };
}
