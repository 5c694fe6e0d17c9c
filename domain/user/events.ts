import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

export const UserRegisteredEvent = defineEvent('UserRegistered', {
  userId: Uuid(),
  email: Type.String({ maxLength: 254 }),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  registeredAt: Timestamp(),
});
export type UserRegistered = Static<typeof UserRegisteredEvent>;

export const UserPasswordChangedEvent = defineEvent('UserPasswordChanged', {
  userId: Uuid(),
  changedAt: Timestamp(),
});
export type UserPasswordChanged = Static<typeof UserPasswordChangedEvent>;

export const UserProfileUpdatedEvent = defineEvent('UserProfileUpdated', {
  userId: Uuid(),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  updatedAt: Timestamp(),
});
export type UserProfileUpdated = Static<typeof UserProfileUpdatedEvent>;

export const UserEventSchema = Type.Union([UserRegisteredEvent, UserPasswordChangedEvent, UserProfileUpdatedEvent]);
export type UserEvent = Static<typeof UserEventSchema>;
