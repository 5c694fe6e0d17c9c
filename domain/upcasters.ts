import type { UserPasswordChanged, UserPasswordChangedV1 } from './user/events.ts';
import { currentSchemaVersion, plainSchemaVersion, type DomainEventType } from './events.ts';
import { personalFields } from './personal-fields.ts';
import { wrapLegacyFields } from './shared/personal-data.ts';

/** Turns the data of one schema version of an event into the next version's. Pure. */
export type Upcaster = (data: never) => unknown;

/** By event type, then by the version upcast from (to that version + 1). */
export type UpcasterRegistry = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

/**
 * Every shape change of a published event adds its version here. The log is never rewritten:
 * old rows stay as they were written, and every reader (command handling, projectors, rebuild)
 * upcasts them on the way in, so domain code only ever sees the current version.
 */
const handWritten: Record<string, Record<number, Upcaster>> = {
  UserPasswordChanged: {
    // Version 1 did not record the client; a change recorded then has none.
    1: (data: UserPasswordChangedV1['data']): UserPasswordChanged['data'] => ({ ...data, client: null }),
  },
};

/** Plain personal fields written before sealing become legacy envelopes (`ll0.`): one shape for readers to open. */
function sealingUpcasters(): Record<string, Record<number, Upcaster>> {
  const registry: Record<string, Record<number, Upcaster>> = { ...handWritten };
  for (const [type, personal] of Object.entries(personalFields)) {
    registry[type] = { ...registry[type], [plainSchemaVersion(type as DomainEventType)]: wrapLegacyFields(personal.fields) as Upcaster };
  }
  return registry;
}

export const domainUpcasters: UpcasterRegistry = sealingUpcasters();

export type VersionedEvent = { type: string; schemaVersion: number; data: unknown };

/** The event at its current version (the same object when it already is, or the type is unknown here). */
export function upcastEvent<E extends VersionedEvent>(event: E, registry: UpcasterRegistry = domainUpcasters, current = currentSchemaVersion): E {
  const target = current(event.type);
  if (target === undefined || event.schemaVersion >= target) return event;
  let { data, schemaVersion } = event;
  const steps = registry[event.type] ?? {};
  while (schemaVersion < target) {
    const step = steps[schemaVersion];
    if (!step) throw new Error(`no upcaster for ${event.type} from version ${schemaVersion} to ${schemaVersion + 1}`);
    data = (step as (data: unknown) => unknown)(data);
    schemaVersion += 1;
  }
  return { ...event, schemaVersion, data };
}
