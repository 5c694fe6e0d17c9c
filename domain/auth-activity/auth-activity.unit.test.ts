import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ValidationError } from '../shared/errors.ts';
import { anonymousAuthStreamId, authActivityDecider, authActivityStreamId, type AuthActivityCommand } from './index.ts';

const userId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const sessionId = '5e55105e-0000-4000-8000-000000000001';
const now = '2025-01-02T03:04:05.000Z';
const client = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0' };
const pseudonym = 'ab'.repeat(32);

const failed = (data: Partial<{ userId: string | null; emailPseudonym: string | null }>): AuthActivityCommand => ({
  type: 'RecordLoginFailed',
  data: { userId: null, emailPseudonym: null, client, now, ...data },
});

t.test('stream ids: one per user, one per unknown email pseudonym', async (t) => {
  t.equal(authActivityStreamId(userId), `auth-${userId}`);
  t.equal(anonymousAuthStreamId(pseudonym), `auth-anon-${pseudonym}`);
});

t.test('outcomes are recorded whatever came before (an append-only record)', async (t) => {
  const earlier = { type: 'LoginSucceeded' as const, data: { userId, sessionId, client, at: now } };
  given(authActivityDecider, [earlier, earlier])
    .when({ type: 'RecordLoginSucceeded', data: { userId, sessionId, client, now } })
    .then(t, [{ type: 'LoginSucceeded', data: { userId, sessionId, client, at: now } }]);
  given(authActivityDecider, [])
    .when({ type: 'RecordLogout', data: { userId, sessionId, client, now } })
    .then(t, [{ type: 'LoggedOut', data: { userId, sessionId, client, at: now } }]);
  given(authActivityDecider, [])
    .when({ type: 'RecordRefreshTokenReuse', data: { userId, sessionId, client, now } })
    .then(t, [{ type: 'RefreshTokenReuseDetected', data: { userId, sessionId, client, at: now } }]);
  given(authActivityDecider, [earlier]).thenState(t, { status: 'recording' });
});

t.test('a failed login names the user, or only the email pseudonym, never both', async (t) => {
  given(authActivityDecider, [])
    .when(failed({ userId }))
    .then(t, [{ type: 'LoginFailed', data: { userId, emailPseudonym: null, reason: 'wrong_password', client, at: now } }]);
  given(authActivityDecider, [])
    .when(failed({ emailPseudonym: pseudonym }))
    .then(t, [{ type: 'LoginFailed', data: { userId: null, emailPseudonym: pseudonym, reason: 'unknown_email', client, at: now } }]);
  given(authActivityDecider, [])
    .when(failed({ userId, emailPseudonym: pseudonym }))
    .thenThrows(t, 'INVALID_SUBJECT', ValidationError);
  given(authActivityDecider, []).when(failed({})).thenThrows(t, 'INVALID_SUBJECT', ValidationError);
  // An email in clear is not a pseudonym: it can never reach the log through this field.
  given(authActivityDecider, [])
    .when(failed({ emailPseudonym: 'ada@example.com' }))
    .thenThrows(t, 'INVALID_SUBJECT', ValidationError);
});

t.test('the client text is cut to size, so an oversized header cannot keep an attempt off the record', async (t) => {
  const huge = { ip: '1'.repeat(100), userAgent: 'u'.repeat(10_000) };
  const [event] = authActivityDecider.decide(
    { type: 'RecordLoginFailed', data: { userId, emailPseudonym: null, client: huge, now } },
    authActivityDecider.initialState(),
  );
  t.same(event?.data.client, { ip: '1'.repeat(64), userAgent: 'u'.repeat(512) });
});
