// The published event contract (docs/events/) is what `npm run contract` generates from the
// TypeBox definitions today: stale files fail here. Its examples validate against its own
// schema files, older versions stay published, and the AsyncAPI document's references resolve.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { Compile } from 'typebox/schema';
import { parse } from 'yaml';
import { contractFiles, CONTRACT_DIR } from '../scripts/contract-files.ts';
import { eventCatalogue } from '../domain/events.ts';
import { upcastEvent } from '../domain/upcasters.ts';

const expected = contractFiles();
const readSchema = async (name: string) => JSON.parse(await readFile(new URL(`schemas/${name}`, CONTRACT_DIR), 'utf8'));

t.test('docs/events/ is up to date (run `npm run contract` after changing an event)', async (t) => {
  for (const [name, text] of Object.entries(expected)) {
    const onDisk = await readFile(new URL(name, CONTRACT_DIR), 'utf8').catch(() => null);
    t.ok(onDisk === text, `${name} is current`);
  }
  const schemas = (await readdir(new URL('schemas/', CONTRACT_DIR))).map((name) => `schemas/${name}`);
  t.same(
    schemas.filter((name) => !(name in expected)),
    [],
    'no schema file that is no longer generated',
  );
});

t.test('every event type and version has a schema file, and the examples validate against them', async (t) => {
  const document = parse(expected['asyncapi.yaml']!);
  for (const definition of eventCatalogue) {
    for (const version of [...definition.previousVersions.map((v) => v.schemaVersion), definition.schemaVersion]) {
      t.ok(`schemas/${definition.type}.v${version}.json` in expected, `${definition.type} v${version} is published`);
    }
    const schema = Compile(await readSchema(`${definition.type}.v${definition.schemaVersion}.json`));
    const example = document.components.messages[definition.type].examples[0];
    t.ok(schema.Check(example.payload), `${definition.type}: the example matches its schema`);
    t.notOk(schema.Check({ ...example.payload, data: { ...example.payload.data, password: 'x' } }), `${definition.type}: no undeclared field gets through`);
    t.ok(Compile(await readSchema('envelope.json')).Check(example.payload), `${definition.type}: the example is an envelope`);
    t.ok(
      Compile(await readSchema('headers.json')).Check(Object.fromEntries(Object.entries(example.headers).filter(([, v]) => v !== null))),
      `${definition.type}: headers`,
    );
  }
});

t.test('an older version stays readable: v1 matches its own schema, and upcast, the current one', async (t) => {
  const v1 = Compile(await readSchema('UserPasswordChanged.v1.json'));
  const v3 = Compile(await readSchema('UserPasswordChanged.v3.json'));
  const written = {
    eventId: '7c0e5b9a-2f4d-4e1b-9a3c-5d6e7f8091a2',
    type: 'UserPasswordChanged',
    schemaVersion: 1,
    category: 'platform',
    streamId: 'user-3fa85f64-5717-4562-b3fc-2c963f66afa6',
    streamVersion: 2,
    globalPosition: 9,
    tenantId: null,
    occurredAt: '2025-01-02T03:04:05.000Z',
    actor: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    correlationId: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    causationId: null,
    data: { userId: '3fa85f64-5717-4562-b3fc-2c963f66afa6', changedAt: '2025-01-02T03:04:05.000Z' },
  };
  t.ok(v1.Check(written), 'a v1 message matches the v1 schema');
  t.notOk(v3.Check(written), 'and not the v3 one');
  t.ok(v3.Check(upcastEvent(written)), 'upcast, it matches v3 (its client sealed as legacy)');
});

t.test('the AsyncAPI document: version 3, both topics, every message, references that resolve', async (t) => {
  const document = parse(expected['asyncapi.yaml']!);
  t.equal(document.asyncapi, '3.0.0');
  t.same(
    Object.values(document.channels)
      .map((c: any) => c.address)
      .sort(),
    ['ledgerline.documents.events.v1', 'ledgerline.platform.events.v1'],
  );
  for (const definition of eventCatalogue) {
    t.ok(document.channels[definition.category].messages[definition.type], `${definition.type} on the ${definition.category} topic`);
    t.equal(document.components.messages[definition.type].bindings.kafka.key.type, 'string', `${definition.type}: its key is described`);
  }
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref') refs.push(v as string);
        else walk(v);
      }
  };
  walk(document);
  for (const ref of new Set(refs)) {
    if (ref.startsWith('./')) t.ok(ref.slice(2) in expected, `${ref} exists`);
    else
      t.ok(
        ref
          .slice(2)
          .split('/')
          .reduce((n: any, key) => n?.[key], document) !== undefined,
        `${ref} resolves`,
      );
  }
});
