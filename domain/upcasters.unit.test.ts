import t from 'tap';
import { Value } from 'typebox/value';
import { eventCatalogue, eventDefinition } from './events.ts';
import { upcastEvent, type UpcasterRegistry } from './upcasters.ts';
import { legacySealed, openLegacy } from './shared/personal-data.ts';

const userId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const changedAt = '2025-01-02T03:04:05.000Z';

t.test('UserPasswordChanged v1 reads as v3: no client was recorded then, and v2 to v3 marks the plain client as legacy', async (t) => {
  const v1 = { type: 'UserPasswordChanged', schemaVersion: 1, data: { userId, changedAt }, globalPosition: 7 };
  t.notOk(Value.Check(eventDefinition('UserPasswordChanged').schema, { type: v1.type, data: v1.data }), 'v1 data is not a v3 event');
  const current = upcastEvent(v1);
  t.same(
    current,
    { type: 'UserPasswordChanged', schemaVersion: 3, data: { userId, changedAt, client: legacySealed(null) }, globalPosition: 7 },
    'the envelope is kept',
  );
  t.ok(Value.Check(eventDefinition('UserPasswordChanged').schema, { type: current.type, data: current.data }));
  t.same(v1.data, { userId, changedAt }, 'the event read is not modified');
});

t.test('current versions and unknown types pass through as they are', async (t) => {
  const v3 = { type: 'UserPasswordChanged', schemaVersion: 3, data: { userId, changedAt, client: legacySealed(null) } };
  t.equal(upcastEvent(v3), v3);
  const unknown = { type: 'SomethingNew', schemaVersion: 1, data: {} };
  t.equal(upcastEvent(unknown), unknown);
});

t.test('steps chain version by version; a missing step is an error, not a silent pass', async (t) => {
  const registry: UpcasterRegistry = {
    Renamed: { 1: (d: { n: string }) => ({ name: d.n }), 2: (d: { name: string }) => ({ name: d.name, tags: [] }) },
  };
  const current = () => 3;
  t.same(upcastEvent({ type: 'Renamed', schemaVersion: 1, data: { n: 'a' } }, registry, current).data, { name: 'a', tags: [] });
  t.throws(() => upcastEvent({ type: 'Gap', schemaVersion: 1, data: {} }, registry, current), /no upcaster for Gap from version 1/);
});

t.test('every earlier version in the catalogue has an upcaster to the current one', async (t) => {
  for (const definition of eventCatalogue) {
    for (const previous of definition.previousVersions) {
      t.doesNotThrow(
        () => upcastEvent({ type: definition.type, schemaVersion: previous.schemaVersion, data: {} }),
        `${definition.type} v${previous.schemaVersion}`,
      );
    }
  }
});

t.test('a plain personal field of an older version reads as a legacy envelope holding the same value', async (t) => {
  const v1 = { type: 'DocumentCreated', schemaVersion: 1, data: { title: 'Ünïcode plan', tags: ['a', 'b'], description: '', filename: 'x.pdf', size: 1 } };
  const current = upcastEvent(v1);
  t.equal(current.schemaVersion, 2);
  const data: Record<string, unknown> = current.data;
  t.equal(openLegacy(String(data['title'])), 'Ünïcode plan');
  t.same(openLegacy(String(data['tags'])), ['a', 'b']);
  t.equal(data['size'], 1, 'other fields untouched');
});
