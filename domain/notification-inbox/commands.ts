import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';
import { NotificationKindSchema } from './kinds.ts';

/** Marks the listed notifications, and/or every one at or below `upToPosition`, as read. */
export const MarkNotificationsReadCommand = defineCommand('MarkNotificationsRead', {
  userId: Uuid(),
  notificationIds: Type.Array(Uuid(), { maxItems: 500 }),
  upToPosition: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  now: Timestamp(),
});
export type MarkNotificationsRead = Static<typeof MarkNotificationsReadCommand>;

/** Turns email on (true) or off (false) for the kinds given; kinds left out keep their setting. */
export const SetNotificationPreferencesCommand = defineCommand('SetNotificationPreferences', {
  userId: Uuid(),
  email: Type.Array(Type.Object({ kind: NotificationKindSchema, enabled: Type.Boolean() })),
  now: Timestamp(),
});
export type SetNotificationPreferences = Static<typeof SetNotificationPreferencesCommand>;

export const NotificationInboxCommandSchema = Type.Union([MarkNotificationsReadCommand, SetNotificationPreferencesCommand]);
export type NotificationInboxCommand = Static<typeof NotificationInboxCommandSchema>;
