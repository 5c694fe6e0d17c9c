import { ValidationError } from '../shared/errors.ts';
import type { MarkNotificationsRead, NotificationInboxCommand, SetNotificationPreferences } from './commands.ts';
import type { NotificationInboxEvent } from './events.ts';
import type { NotificationInboxState } from './evolve.ts';
import { NOTIFICATION_KINDS } from './kinds.ts';

export function decideNotificationInbox(command: NotificationInboxCommand, state: NotificationInboxState): NotificationInboxEvent[] {
  switch (command.type) {
    case 'MarkNotificationsRead':
      return markRead(command, state);
    case 'SetNotificationPreferences':
      return setPreferences(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function markRead({ data }: MarkNotificationsRead, state: NotificationInboxState): NotificationInboxEvent[] {
  if (data.notificationIds.length === 0 && data.upToPosition === null) {
    throw new ValidationError('NOTHING_TO_MARK', 'give notification ids, upToPosition, or both');
  }
  const readUpTo = state.status === 'active' ? state.readUpTo : 0;
  // Marking again what is already covered by an earlier "up to" changes nothing: no event.
  const upToPosition = data.upToPosition !== null && data.upToPosition > readUpTo ? data.upToPosition : null;
  const notificationIds = [...new Set(data.notificationIds)];
  if (notificationIds.length === 0 && upToPosition === null) return [];
  return [{ type: 'NotificationsRead', data: { userId: data.userId, notificationIds, upToPosition, readAt: data.now } }];
}

function setPreferences({ data }: SetNotificationPreferences, state: NotificationInboxState): NotificationInboxEvent[] {
  if (data.email.length === 0) throw new ValidationError('NOTHING_TO_CHANGE', 'give at least one kind to turn email on or off');
  const off = new Set(state.status === 'active' ? state.emailOff : []);
  const before = NOTIFICATION_KINDS.filter((kind) => off.has(kind));
  for (const { kind, enabled } of data.email) {
    if (enabled) off.delete(kind);
    else off.add(kind);
  }
  // Catalogue order, so equal sets compare equal and the event reads the same way every time.
  const emailOff = NOTIFICATION_KINDS.filter((kind) => off.has(kind));
  if (emailOff.length === before.length && emailOff.every((kind, i) => kind === before[i])) return [];
  return [{ type: 'NotificationPreferencesChanged', data: { userId: data.userId, emailOff, changedAt: data.now } }];
}
