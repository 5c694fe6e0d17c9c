import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { normaliseEmail, userDecider, userStreamId, type UserCommand, type UserEvent } from './index.ts';

const userId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const otherId = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const now = '2025-01-02T03:04:05.000Z';
const later = '2025-02-03T04:05:06.000Z';

const register = (data: Partial<{ email: string; displayName: string }> = {}): UserCommand => ({
  type: 'RegisterUser',
  data: { userId, email: 'Ada@Example.com', displayName: 'Ada Lovelace', now, ...data },
});
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'ada@example.com', displayName: 'Ada Lovelace', registeredAt: now },
};
const client = { ip: '203.0.113.7', userAgent: 'curl/8.5' };
const changePassword = (actorId: string, from = client): UserCommand => ({ type: 'ChangePassword', data: { userId, actorId, client: from, now: later } });
const updateProfile = (displayName: string, actorId = userId): UserCommand => ({
  type: 'UpdateProfile',
  data: { userId, actorId, displayName, now: later },
});

t.test('stream id', async (t) => {
  t.equal(userStreamId(userId), `user-${userId}`);
});

t.test('normaliseEmail trims and lower-cases', async (t) => {
  t.equal(normaliseEmail('  Ada@Example.COM '), 'ada@example.com');
});

t.test('RegisterUser', async (t) => {
  t.test('registers with a normalised email and a trimmed display name', async (t) => {
    given(userDecider, [])
      .when(register({ email: '  Ada@Example.com ', displayName: '  Ada Lovelace ' }))
      .then(t, [registered]);
  });
  t.test('refuses a second registration', async (t) => {
    given(userDecider, [registered]).when(register()).thenThrows(t, 'USER_EXISTS', ConflictError);
  });
  for (const email of [
    'no-at-sign',
    'two@@example.com',
    'a@b@example.com',
    'with space@example.com',
    '@example.com',
    'ada@',
    'ada@localhost',
    'ada@example..com',
    `${'a'.repeat(250)}@example.com`,
    `${'a'.repeat(65)}@example.com`,
  ]) {
    t.test(`refuses the email ${JSON.stringify(email.slice(0, 30))}`, async (t) => {
      given(userDecider, []).when(register({ email })).thenThrows(t, 'INVALID_EMAIL', ValidationError);
    });
  }
  t.test('accepts a 254-character email', async (t) => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(185)}.com`;
    t.equal(email.length, 254);
    given(userDecider, [])
      .when(register({ email }))
      .then(t, [{ ...registered, data: { ...registered.data, email } }]);
  });
  t.test('refuses an empty or blank display name', async (t) => {
    given(userDecider, [])
      .when(register({ displayName: '   ' }))
      .thenThrows(t, 'INVALID_DISPLAY_NAME', ValidationError);
  });
  t.test('accepts 100 characters of display name and refuses 101', async (t) => {
    const hundred = 'é'.repeat(100);
    given(userDecider, [])
      .when(register({ displayName: hundred }))
      .then(t, [{ ...registered, data: { ...registered.data, displayName: hundred } }]);
    given(userDecider, [])
      .when(register({ displayName: `${hundred}x` }))
      .thenThrows(t, 'INVALID_DISPLAY_NAME', ValidationError);
  });
});

t.test('ChangePassword', async (t) => {
  t.test('the user changes their own password', async (t) => {
    given(userDecider, [registered])
      .when(changePassword(userId))
      .then(t, [{ type: 'UserPasswordChanged', data: { userId, changedAt: later, client } }]);
  });
  t.test('an oversized User-Agent is cut, not refused (the change is still recorded)', async (t) => {
    const long = { ip: '203.0.113.7', userAgent: 'x'.repeat(5000) };
    given(userDecider, [registered])
      .when(changePassword(userId, long))
      .then(t, [{ type: 'UserPasswordChanged', data: { userId, changedAt: later, client: { ip: long.ip, userAgent: 'x'.repeat(512) } } }]);
  });
  t.test('nobody else can', async (t) => {
    given(userDecider, [registered]).when(changePassword(otherId)).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('an unknown user is not found', async (t) => {
    given(userDecider, []).when(changePassword(userId)).thenThrows(t, 'USER_NOT_FOUND', NotFoundError);
  });
  t.test('the event carries no secret', async (t) => {
    const [event] = userDecider.decide(changePassword(userId), userDecider.evolve(userDecider.initialState(), registered));
    t.same(Object.keys(event?.data ?? {}).sort(), ['changedAt', 'client', 'userId']);
    t.same(Object.keys((event?.type === 'UserPasswordChanged' ? event.data.client : null) ?? {}).sort(), ['ip', 'userAgent'], 'where from, never a credential');
  });
});

t.test('UpdateProfile', async (t) => {
  t.test('changes the display name (trimmed)', async (t) => {
    given(userDecider, [registered])
      .when(updateProfile('  Countess  '))
      .then(t, [{ type: 'UserProfileUpdated', data: { userId, displayName: 'Countess', updatedAt: later } }]);
  });
  t.test('the same name is a no-op', async (t) => {
    given(userDecider, [registered]).when(updateProfile(' Ada Lovelace ')).then(t, []);
  });
  t.test('only the user can', async (t) => {
    given(userDecider, [registered]).when(updateProfile('Countess', otherId)).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('refuses a blank name', async (t) => {
    given(userDecider, [registered]).when(updateProfile(' ')).thenThrows(t, 'INVALID_DISPLAY_NAME', ValidationError);
  });
  t.test('an unknown user is not found', async (t) => {
    given(userDecider, []).when(updateProfile('Countess')).thenThrows(t, 'USER_NOT_FOUND', NotFoundError);
  });
});

t.test('evolve', async (t) => {
  t.test('initial state', async (t) => {
    given(userDecider, []).thenState(t, { status: 'initial' });
  });
  t.test('registered, password changed, profile updated', async (t) => {
    given(userDecider, [
      registered,
      { type: 'UserPasswordChanged', data: { userId, changedAt: later, client: null } },
      { type: 'UserProfileUpdated', data: { userId, displayName: 'Countess', updatedAt: later } },
    ]).thenState(t, {
      status: 'registered',
      userId,
      email: 'ada@example.com',
      displayName: 'Countess',
      registeredAt: now,
      passwordChangedAt: later,
    });
  });
});
