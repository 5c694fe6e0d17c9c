import type { NotificationInboxEvent } from './events.ts';
import type { NotificationKind } from './kinds.ts';

export type NotificationInboxState = { status: 'initial' } | { status: 'active'; userId: string; readUpTo: number; emailOff: readonly NotificationKind[] };

export const initialNotificationInboxState = (): NotificationInboxState => ({ status: 'initial' });

export function evolveNotificationInbox(state: NotificationInboxState, event: NotificationInboxEvent): NotificationInboxState {
  const current = state.status === 'active' ? state : { status: 'active' as const, userId: event.data.userId, readUpTo: 0, emailOff: [] };
  switch (event.type) {
    case 'NotificationsRead':
      return { ...current, readUpTo: Math.max(current.readUpTo, event.data.upToPosition ?? 0) };
    case 'NotificationPreferencesChanged':
      return { ...current, emailOff: event.data.emailOff };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
