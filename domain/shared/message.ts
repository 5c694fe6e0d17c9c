import { Type, type TLiteral, type TObject, type TProperties } from 'typebox';

type Message<Name extends string, Data extends TProperties> = TObject<{ type: TLiteral<Name>; data: TObject<Data> }>;

function defineMessage<Name extends string, Data extends TProperties>(name: Name, data: Data): Message<Name, Data> {
  return Type.Object(
    { type: Type.Literal(name), data: Type.Object(data, { additionalProperties: false }) },
    { additionalProperties: false },
  );
}

/** An event as the domain emits it: `{ type, data }`; the event store adds the envelope. */
export const defineEvent = defineMessage;

/** A command: `{ type, data }`, where data also carries the time, ids and looked-up facts it needs. */
export const defineCommand = defineMessage;

export const Uuid = () => Type.String({ format: 'uuid' });
export const Timestamp = () => Type.String({ format: 'date-time' });
