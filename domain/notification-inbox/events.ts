import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';
import { NotificationKindSchema } from './kinds.ts';

export const NotificationsReadEvent = defineEvent('NotificationsRead', {
  userId: Uuid(),
  notificationIds: Type.Array(Uuid(), { maxItems: 500 }),
  /** Every notification of the user at or below this position (a notification's `position`) is read. */
  upToPosition: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  readAt: Timestamp(),
});
export type NotificationsRead = Static<typeof NotificationsReadEvent>;

/** Carries the whole set of kinds whose email is now off, so a projection replaces rather than merges. */
export const NotificationPreferencesChangedEvent = defineEvent('NotificationPreferencesChanged', {
  userId: Uuid(),
  emailOff: Type.Array(NotificationKindSchema, { uniqueItems: true }),
  changedAt: Timestamp(),
});
export type NotificationPreferencesChanged = Static<typeof NotificationPreferencesChangedEvent>;

export const NotificationInboxEventSchema = Type.Union([NotificationsReadEvent, NotificationPreferencesChangedEvent]);
export type NotificationInboxEvent = Static<typeof NotificationInboxEventSchema>;
