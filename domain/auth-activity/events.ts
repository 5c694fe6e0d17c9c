import { Type, type Static } from 'typebox';
import { ClientInfo } from '../shared/client.ts';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

/** A pseudonym of an unknown email: HMAC-SHA-256 (hex) of the normalised address with a server key. */
export const EmailPseudonym = () => Type.String({ pattern: '^[0-9a-f]{64}$', examples: ['9f2c0d7e3b1a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5'] });

export const LoginSucceededEvent = defineEvent('LoginSucceeded', {
  userId: Uuid(),
  sessionId: Uuid(),
  client: ClientInfo,
  at: Timestamp(),
});
export type LoginSucceeded = Static<typeof LoginSucceededEvent>;

/** userId when the email belongs to a user; otherwise only the email's pseudonym, never the address. */
export const LoginFailedEvent = defineEvent('LoginFailed', {
  userId: Type.Union([Uuid(), Type.Null()]),
  emailPseudonym: Type.Union([EmailPseudonym(), Type.Null()]),
  reason: Type.Union([Type.Literal('wrong_password'), Type.Literal('unknown_email')]),
  client: ClientInfo,
  at: Timestamp(),
});
export type LoginFailed = Static<typeof LoginFailedEvent>;

export const LoggedOutEvent = defineEvent('LoggedOut', {
  userId: Uuid(),
  sessionId: Uuid(),
  client: ClientInfo,
  at: Timestamp(),
});
export type LoggedOut = Static<typeof LoggedOutEvent>;

/** A rotated refresh token was presented again: it leaked, and its whole session was revoked. */
export const RefreshTokenReuseDetectedEvent = defineEvent('RefreshTokenReuseDetected', {
  userId: Uuid(),
  sessionId: Uuid(),
  client: ClientInfo,
  at: Timestamp(),
});
export type RefreshTokenReuseDetected = Static<typeof RefreshTokenReuseDetectedEvent>;

export const AuthActivityEventSchema = Type.Union([LoginSucceededEvent, LoginFailedEvent, LoggedOutEvent, RefreshTokenReuseDetectedEvent]);
export type AuthActivityEvent = Static<typeof AuthActivityEventSchema>;
