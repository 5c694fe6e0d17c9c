import type { Decider } from '../shared/decider.ts';
import type { NotificationInboxCommand } from './commands.ts';
import { decideNotificationInbox } from './decide.ts';
import type { NotificationInboxEvent } from './events.ts';
import { evolveNotificationInbox, initialNotificationInboxState, type NotificationInboxState } from './evolve.ts';

/**
 * One stream per user for what the user decides about their notifications (read marks, email
 * preferences). The notifications themselves are a read model built from other aggregates' events.
 */
export const notificationInboxStreamId = (userId: string): string => `notification-inbox-${userId}`;

export const notificationInboxDecider: Decider<NotificationInboxCommand, NotificationInboxEvent, NotificationInboxState> = {
  initialState: initialNotificationInboxState,
  decide: decideNotificationInbox,
  evolve: evolveNotificationInbox,
};

export * from './commands.ts';
export * from './events.ts';
export * from './kinds.ts';
export { decideNotificationInbox } from './decide.ts';
export { evolveNotificationInbox, initialNotificationInboxState, type NotificationInboxState } from './evolve.ts';
export * from './sources.ts';
