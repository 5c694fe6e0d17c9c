import { Type, type Static } from 'typebox';
import { ClientInfo } from '../shared/client.ts';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';
import { SubjectErasedEvent } from '../erasure/events.ts';

export const UserRegisteredEvent = defineEvent('UserRegistered', {
  userId: Uuid(),
  email: Type.String({ maxLength: 254 }),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  registeredAt: Timestamp(),
});
export type UserRegistered = Static<typeof UserRegisteredEvent>;

/** Version 1, as written before the client was recorded: kept for the published contract and its upcaster. */
export const UserPasswordChangedEventV1 = defineEvent('UserPasswordChanged', {
  userId: Uuid(),
  changedAt: Timestamp(),
});
export type UserPasswordChangedV1 = Static<typeof UserPasswordChangedEventV1>;

/** Version 2: where the change came from (null for changes recorded as version 1). */
export const UserPasswordChangedEvent = defineEvent('UserPasswordChanged', {
  userId: Uuid(),
  changedAt: Timestamp(),
  client: Type.Union([ClientInfo, Type.Null()]),
});
export type UserPasswordChanged = Static<typeof UserPasswordChangedEvent>;

export const UserProfileUpdatedEvent = defineEvent('UserProfileUpdated', {
  userId: Uuid(),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  updatedAt: Timestamp(),
});
export type UserProfileUpdated = Static<typeof UserProfileUpdatedEvent>;

export const UserEventSchema = Type.Union([UserRegisteredEvent, UserPasswordChangedEvent, UserProfileUpdatedEvent, SubjectErasedEvent]);
export type UserEvent = Static<typeof UserEventSchema>;
