import { Type, type Static } from 'typebox';

/** What a notification is about; each user can turn email off per kind. */
export const NotificationKindSchema = Type.Union([
  Type.Literal('member-added'),
  Type.Literal('member-role-changed'),
  Type.Literal('member-removed'),
  Type.Literal('document-uploaded'),
  Type.Literal('webhook-disabled'),
]);
export type NotificationKind = Static<typeof NotificationKindSchema>;

export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'member-added',
  'member-role-changed',
  'member-removed',
  'document-uploaded',
  'webhook-disabled',
];
