import { Type, type Static } from 'typebox';
import { ClientInfo } from '../shared/client.ts';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';

const SessionOutcome = { userId: Uuid(), sessionId: Uuid(), client: ClientInfo, now: Timestamp() };

export const RecordLoginSucceededCommand = defineCommand('RecordLoginSucceeded', SessionOutcome);
export type RecordLoginSucceeded = Static<typeof RecordLoginSucceededCommand>;

/** Exactly one of userId (a known email) and emailPseudonym (an unknown one). */
export const RecordLoginFailedCommand = defineCommand('RecordLoginFailed', {
  userId: Type.Union([Uuid(), Type.Null()]),
  emailPseudonym: Type.Union([Type.String(), Type.Null()]),
  client: ClientInfo,
  now: Timestamp(),
});
export type RecordLoginFailed = Static<typeof RecordLoginFailedCommand>;

export const RecordLogoutCommand = defineCommand('RecordLogout', SessionOutcome);
export type RecordLogout = Static<typeof RecordLogoutCommand>;

export const RecordRefreshTokenReuseCommand = defineCommand('RecordRefreshTokenReuse', SessionOutcome);
export type RecordRefreshTokenReuse = Static<typeof RecordRefreshTokenReuseCommand>;

export const AuthActivityCommandSchema = Type.Union([
  RecordLoginSucceededCommand,
  RecordLoginFailedCommand,
  RecordLogoutCommand,
  RecordRefreshTokenReuseCommand,
]);
export type AuthActivityCommand = Static<typeof AuthActivityCommandSchema>;
