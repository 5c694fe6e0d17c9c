import { Type, type TSchema } from 'typebox';
import { eventCatalogue, type EventDefinition } from '../../domain/events.ts';
import { topicNames } from '../adapters/kafka.ts';

/**
 * The published event contract, generated from the same TypeBox definitions the code validates
 * with (domain/events.ts and each aggregate's events.ts): one JSON Schema per event type and
 * version, the envelope, and an AsyncAPI 3 document. `npm run contract` writes them to
 * docs/events/; test/contract.unit.test.ts fails when they are stale.
 */
const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const UUID_EXAMPLE = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const Uuid = () => Type.String({ format: 'uuid', examples: [UUID_EXAMPLE] });
const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);

/** The envelope every message value carries, around one event type's data at one version. */
export function envelopeSchema(type: TSchema, schemaVersion: TSchema, category: TSchema, data: TSchema): TSchema {
  return Type.Object(
    {
      eventId: Type.String({
        format: 'uuid',
        description: 'Unique per event: drop a message whose eventId you have seen (at-least-once delivery).',
        examples: ['7c0e5b9a-2f4d-4e1b-9a3c-5d6e7f8091a2'],
      }),
      type,
      schemaVersion,
      category,
      streamId: Type.String({ description: 'The aggregate stream, e.g. user-{id}, tenant-{id}, auth-{userId}.', examples: [`tenant-${UUID_EXAMPLE}`] }),
      streamVersion: Type.Integer({ minimum: 1, description: 'Position of the event in its stream, from 1.' }),
      globalPosition: Type.Integer({ minimum: 1, description: 'Position in the whole log; grows within each partition.', examples: [42] }),
      tenantId: Nullable(Uuid()),
      occurredAt: Type.String({ format: 'date-time', examples: ['2025-01-02T03:04:05.000Z'] }),
      actor: Nullable(Type.String({ description: 'A user id, or system:provisioner / system:file-janitor.', examples: [UUID_EXAMPLE] })),
      correlationId: Uuid(),
      causationId: Nullable(Uuid()),
      data,
    },
    { additionalProperties: false },
  );
}

export const MessageHeaders = Type.Object(
  {
    'event-type': Type.String({ description: 'The envelope type.' }),
    'schema-version': Type.String({ pattern: '^[0-9]+$', description: 'The envelope schemaVersion, as text.' }),
    'event-id': Type.String({ format: 'uuid', description: 'The envelope eventId.' }),
    'global-position': Type.String({ pattern: '^[0-9]+$', description: 'The envelope globalPosition, as text.' }),
    'tenant-id': Type.Optional(Type.String({ format: 'uuid', description: 'Present on tenant-scoped events.' })),
  },
  { additionalProperties: false },
);

type Version = { schemaVersion: number; schema: TSchema };
const versionsOf = (d: EventDefinition): Version[] => [...d.previousVersions, { schemaVersion: d.schemaVersion, schema: d.schema }];
const schemaName = (type: string, version: number) => `${type}.v${version}`;
const dataOf = (eventSchema: TSchema): TSchema => (eventSchema as unknown as { properties: { data: TSchema } }).properties.data;

function versionSchema(d: EventDefinition, v: Version): Record<string, unknown> {
  const schema = envelopeSchema(Type.Literal(d.type), Type.Literal(v.schemaVersion), Type.Literal(d.category), dataOf(v.schema));
  const note =
    v.schemaVersion === d.schemaVersion ? '' : ` (version ${v.schemaVersion}, superseded by ${d.schemaVersion}: still on the log, upcast by readers)`;
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${schemaName(d.type, v.schemaVersion)}.json`,
    title: schemaName(d.type, v.schemaVersion),
    description: `${d.description}${note}`,
    ...plain(schema),
  };
}

/** Every file under docs/events/schemas/, by file name. */
export function eventSchemaFiles(): Record<string, unknown> {
  const files: Record<string, unknown> = {
    'envelope.json': {
      $schema: JSON_SCHEMA_DIALECT,
      $id: 'envelope.json',
      title: 'Envelope',
      description: 'Every message value on the event topics (data depends on type and schemaVersion).',
      ...plain(envelopeSchema(Type.String(), Type.Integer({ minimum: 1 }), Type.String(), Type.Object({}))),
    },
    'headers.json': {
      $schema: JSON_SCHEMA_DIALECT,
      $id: 'headers.json',
      title: 'Headers',
      description: 'Kafka headers of every message.',
      ...plain(MessageHeaders),
    },
  };
  for (const d of eventCatalogue) for (const v of versionsOf(d)) files[`${schemaName(d.type, v.schemaVersion)}.json`] = versionSchema(d, v);
  return files;
}

/** An example value of a schema: its `examples`, else the simplest valid value. */
export function exampleOf(schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.anyOf)) return exampleOf(schema.anyOf[0] as Record<string, unknown>);
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>).map(([k, s]) => [k, exampleOf(s)]));
    case 'array':
      return [exampleOf(schema.items as Record<string, unknown>)];
    case 'integer':
    case 'number':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'text';
  }
}

const plain = (schema: TSchema) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
const ref = (path: string) => ({ $ref: path });
const KAFKA_BINDING = '0.5.0';

/** The AsyncAPI 3.0 document: topics, keys, headers, payloads (every version), examples. */
export function asyncApiDocument(): Record<string, unknown> {
  const topics = topicNames('');
  const schemas: Record<string, unknown> = { Envelope: ref('./schemas/envelope.json'), Headers: ref('./schemas/headers.json') };
  const messages: Record<string, unknown> = {};
  for (const d of eventCatalogue) {
    const versions = versionsOf(d);
    for (const v of versions) schemas[schemaName(d.type, v.schemaVersion)] = ref(`./schemas/${schemaName(d.type, v.schemaVersion)}.json`);
    const current = versionSchema(d, versions.at(-1)!);
    const payload = exampleOf(current) as Record<string, unknown>;
    messages[d.type] = {
      name: d.type,
      title: d.type,
      summary: d.description,
      contentType: 'application/json',
      headers: ref('#/components/schemas/Headers'),
      payload:
        versions.length === 1
          ? ref(`#/components/schemas/${schemaName(d.type, d.schemaVersion)}`)
          : { oneOf: versions.toReversed().map((v) => ref(`#/components/schemas/${schemaName(d.type, v.schemaVersion)}`)) },
      correlationId: { description: 'The request that caused the event.', location: '$message.payload#/correlationId' },
      bindings: { kafka: { key: { type: 'string', description: 'tenantId for tenant-scoped events, else streamId' }, bindingVersion: KAFKA_BINDING } },
      examples: [
        {
          name: `${d.type}.v${d.schemaVersion}`,
          headers: {
            'event-type': d.type,
            'schema-version': String(d.schemaVersion),
            'event-id': payload.eventId,
            'global-position': String(payload.globalPosition),
            'tenant-id': payload.tenantId,
          },
          payload,
        },
      ],
    };
  }
  const channel = (category: 'platform' | 'documents', description: string) => ({
    address: topics[category],
    description: `${description} Topic name with TOPIC_PREFIX in front when one is configured. Kept forever (retention -1).`,
    messages: Object.fromEntries(eventCatalogue.filter((d) => d.category === category).map((d) => [d.type, ref(`#/components/messages/${d.type}`)])),
    bindings: {
      kafka: { topic: topics[category], partitions: 6, topicConfiguration: { 'retention.ms': -1, 'retention.bytes': -1 }, bindingVersion: KAFKA_BINDING },
    },
  });
  const operation = (category: 'platform' | 'documents') => ({
    action: 'receive',
    channel: ref(`#/channels/${category}`),
    summary: `Read the ${category} events (in order per key; at least once: drop duplicates by eventId).`,
    messages: eventCatalogue.filter((d) => d.category === category).map((d) => ref(`#/channels/${category}/messages/${d.type}`)),
  });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Ledgerline events',
      version: '1.0.0',
      description:
        'The event log of Ledgerline as audit consumers read it from Kafka. Every message value is the envelope (schemas/envelope.json) ' +
        "around one event type's data at one schemaVersion. Messages are keyed by tenant id (tenant-scoped events) or stream id, so one " +
        "tenant's events (and one platform aggregate's) keep their order. Delivery is at least once: drop a message whose eventId you have " +
        'already seen. A changed event gets a new schemaVersion; older versions stay on the log (both schemas are published), and ' +
        "Ledgerline's own readers upcast them to the current one. Generated by `npm run contract` from the TypeBox definitions.",
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: '127.0.0.1:59092', protocol: 'kafka', description: 'scripts/infra.sh (npm run infra -- up)' },
      compose: { host: '127.0.0.1:9094', protocol: 'kafka', description: "docker-compose.yml's EXTERNAL listener, published on the host's loopback" },
    },
    channels: {
      platform: channel('platform', 'Users, authentication, email claims, tenants, slug claims, memberships.'),
      documents: channel('documents', 'Files, documents, download URLs.'),
    },
    operations: { receivePlatformEvents: operation('platform'), receiveDocumentEvents: operation('documents') },
    components: { schemas, messages },
  };
}
