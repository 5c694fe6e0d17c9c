export type Decider<Command, Event, State> = {
  initialState: () => State;
  /** Throws a DomainError when the command breaks a rule; [] means "nothing to do" (idempotent no-op). */
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
};

export function foldEvents<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
  state: State = decider.initialState(),
): State {
  return events.reduce(decider.evolve, state);
}

/**
 * Decides several commands against one stream as a single unit of work (e.g. StoreFile then
 * AttachDocument): each command sees the state left by the previous one, and the caller appends
 * all the events with one expected version, so they succeed or fail together.
 */
export function decideInSequence<Command, Event, State>(decider: Decider<Command, Event, State>, commands: readonly Command[], state: State): Event[] {
  const events: Event[] = [];
  let current = state;
  for (const command of commands) {
    const decided = decider.decide(command, current);
    events.push(...decided);
    current = foldEvents(decider, decided, current);
  }
  return events;
}
