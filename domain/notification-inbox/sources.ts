/**
 * The events a user's notifications are made of, by type name: the facts the projection keeps
 * (users, tenant names, admins), the causes of notifications, and the inbox's own events.
 * `WebhookDisabled` ({ webhookId, reason }, tenant-scoped) belongs to the webhooks aggregate;
 * it is listed by name so the projection handles it wherever that event is defined.
 */
export const NOTIFICATION_SOURCE_EVENTS = [
  'UserRegistered',
  'UserProfileUpdated',
  'TenantCreated',
  'TenantRenamed',
  'MemberAdded',
  'MemberRoleChanged',
  'MemberRemoved',
  'DocumentCreated',
  'WebhookDisabled',
  'NotificationsRead',
  'NotificationPreferencesChanged',
  // Erasures: what the projection copied (names, titles, addresses) is scrubbed and re-rendered.
  'SubjectErased',
  'TenantContentErased',
  'TenantDeleted',
] as const;
export type NotificationSourceEvent = (typeof NOTIFICATION_SOURCE_EVENTS)[number];
