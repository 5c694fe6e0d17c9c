import { Type, type TLiteral, type TObject, type TProperties } from 'typebox';

type Message<Name extends string, Data extends TProperties> = TObject<{ type: TLiteral<Name>; data: TObject<Data> }>;

function defineMessage<Name extends string, Data extends TProperties>(name: Name, data: Data): Message<Name, Data> {
  return Type.Object({ type: Type.Literal(name), data: Type.Object(data, { additionalProperties: false }) }, { additionalProperties: false });
}

/** An event as the domain emits it: `{ type, data }`; the event store adds the envelope. */
export const defineEvent = defineMessage;

/** A command: `{ type, data }`, where data also carries the time, ids and looked-up facts it needs. */
export const defineCommand = defineMessage;

// `examples` feed the published contract's example messages (docs/events/).
export const Uuid = () => Type.String({ format: 'uuid', examples: ['3fa85f64-5717-4562-b3fc-2c963f66afa6'] });
export const Timestamp = () => Type.String({ format: 'date-time', examples: ['2025-01-02T03:04:05.000Z'] });
