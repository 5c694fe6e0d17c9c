import { Type, type Static } from 'typebox';
import { ClientInfo } from '../shared/client.ts';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';

export const RegisterUserCommand = defineCommand('RegisterUser', {
  userId: Uuid(),
  email: Type.String(),
  displayName: Type.String(),
  now: Timestamp(),
});
export type RegisterUser = Static<typeof RegisterUserCommand>;

/** The new hash is stored outside the domain: neither commands nor events ever carry it. */
export const ChangePasswordCommand = defineCommand('ChangePassword', {
  userId: Uuid(),
  actorId: Uuid(),
  client: ClientInfo,
  now: Timestamp(),
});
export type ChangePassword = Static<typeof ChangePasswordCommand>;

export const UpdateProfileCommand = defineCommand('UpdateProfile', {
  userId: Uuid(),
  actorId: Uuid(),
  displayName: Type.String(),
  now: Timestamp(),
});
export type UpdateProfile = Static<typeof UpdateProfileCommand>;

/** The user's own request to be forgotten (GDPR Art. 17): the keys are deleted beside the event. */
export const EraseUserCommand = defineCommand('EraseUser', {
  userId: Uuid(),
  actorId: Uuid(),
  now: Timestamp(),
});
export type EraseUser = Static<typeof EraseUserCommand>;

export const UserCommandSchema = Type.Union([RegisterUserCommand, ChangePasswordCommand, UpdateProfileCommand, EraseUserCommand]);
export type UserCommand = Static<typeof UserCommandSchema>;
