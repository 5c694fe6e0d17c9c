import { Type, type Static } from 'typebox';

/**
 * Where a request came from, as recorded in authentication events: the client's IP address and
 * User-Agent. Never a credential. The User-Agent is the caller's own text: it is cut, not
 * refused, so an oversized header cannot keep an attempt off the record.
 */
export const ClientInfo = Type.Object(
  {
    ip: Type.String({ maxLength: 64, examples: ['203.0.113.7'] }),
    userAgent: Type.Union([Type.String({ maxLength: 512, examples: ['Mozilla/5.0 (X11; Linux x86_64)'] }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ClientInfo = Static<typeof ClientInfo>;

export function clientInfo(ip: string, userAgent: string | null | undefined): ClientInfo {
  return { ip: ip.slice(0, 64), userAgent: userAgent ? userAgent.slice(0, 512) : null };
}
