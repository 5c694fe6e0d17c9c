import { Compile } from 'typebox/compile';
import { eventCatalogue, eventDefinition, isDomainEventType } from '../../domain/events.ts';
import type { EventRegistry, EventTypeInfo } from './event-store.ts';

// Each published schema compiled once, at start-up: every appended event is checked against it.
const validators = new Map(eventCatalogue.map((definition) => [definition.type, Compile(definition.schema)]));

/** The event store asks the domain's catalogue for each event's schema version, category and shape. */
export const domainEventRegistry: EventRegistry = (type): EventTypeInfo => {
  if (!isDomainEventType(type)) throw new Error(`unknown event type ${type}: add it to domain/events.ts`);
  const { schemaVersion, category } = eventDefinition(type);
  const validator = validators.get(type)!;
  return {
    schemaVersion,
    category,
    check: (event) => {
      if (validator.Check(event)) return undefined;
      return validator
        .Errors(event)
        .slice(0, 3)
        .map((e) => `${e.instancePath || '/'} ${e.message}`)
        .join('; ');
    },
  };
};
