import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ValidationError } from '../shared/errors.ts';
import { notificationInboxDecider, notificationInboxStreamId, type NotificationInboxCommand, type NotificationInboxEvent } from './index.ts';

const userId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const n1 = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const n2 = '9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c';
const now = '2026-11-29T23:00:00.000Z';

const markRead = (notificationIds: string[], upToPosition: number | null): NotificationInboxCommand => ({
  type: 'MarkNotificationsRead',
  data: { userId, notificationIds, upToPosition, now },
});
const read = (notificationIds: string[], upToPosition: number | null): NotificationInboxEvent => ({
  type: 'NotificationsRead',
  data: { userId, notificationIds, upToPosition, readAt: now },
});
const setEmail = (...email: { kind: 'member-added' | 'document-uploaded' | 'webhook-disabled'; enabled: boolean }[]): NotificationInboxCommand => ({
  type: 'SetNotificationPreferences',
  data: { userId, email, now },
});
const changed = (...emailOff: ('member-added' | 'document-uploaded' | 'webhook-disabled')[]): NotificationInboxEvent => ({
  type: 'NotificationPreferencesChanged',
  data: { userId, emailOff, changedAt: now },
});

t.test('stream id', async (t) => {
  t.equal(notificationInboxStreamId(userId), `notification-inbox-${userId}`);
});

t.test('MarkNotificationsRead', async (t) => {
  t.test('by ids, duplicates dropped', async (t) => {
    given(notificationInboxDecider, [])
      .when(markRead([n1, n2, n1], null))
      .then(t, [read([n1, n2], null)]);
  });
  t.test('everything up to a position', async (t) => {
    given(notificationInboxDecider, [])
      .when(markRead([], 42))
      .then(t, [read([], 42)]);
  });
  t.test('up to a position already covered is a no-op', async (t) => {
    given(notificationInboxDecider, [read([], 42)])
      .when(markRead([], 40))
      .then(t, []);
  });
  t.test('a covered position with ids keeps only the ids', async (t) => {
    given(notificationInboxDecider, [read([], 42)])
      .when(markRead([n1], 42))
      .then(t, [read([n1], null)]);
  });
  t.test('neither ids nor a position is refused', async (t) => {
    given(notificationInboxDecider, []).when(markRead([], null)).thenThrows(t, 'NOTHING_TO_MARK', ValidationError);
  });
  t.test('the read mark only grows', async (t) => {
    given(notificationInboxDecider, [read([], 42), read([n1], null)]).thenState(t, { status: 'active', userId, readUpTo: 42, emailOff: [] });
  });
});

t.test('SetNotificationPreferences', async (t) => {
  t.test('turning a kind off records the whole set of kinds that are off', async (t) => {
    given(notificationInboxDecider, [changed('webhook-disabled')])
      .when(setEmail({ kind: 'member-added', enabled: false }))
      .then(t, [changed('member-added', 'webhook-disabled')]);
  });
  t.test('turning one back on', async (t) => {
    given(notificationInboxDecider, [changed('member-added', 'webhook-disabled')])
      .when(setEmail({ kind: 'member-added', enabled: true }))
      .then(t, [changed('webhook-disabled')]);
  });
  t.test('no change, no event', async (t) => {
    given(notificationInboxDecider, [changed('document-uploaded')])
      .when(setEmail({ kind: 'document-uploaded', enabled: false }, { kind: 'member-added', enabled: true }))
      .then(t, []);
  });
  t.test('an empty change is refused', async (t) => {
    given(notificationInboxDecider, []).when(setEmail()).thenThrows(t, 'NOTHING_TO_CHANGE', ValidationError);
  });
  t.test('state keeps the preferences and the read mark', async (t) => {
    given(notificationInboxDecider, [read([], 7), changed('document-uploaded')]).thenState(t, {
      status: 'active',
      userId,
      readUpTo: 7,
      emailOff: ['document-uploaded'],
    });
  });
});
