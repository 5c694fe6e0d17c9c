import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ValidationError } from '../shared/errors.ts';
import { emailClaimDecider, emailClaimStreamId, type ClaimEmail, type EmailClaimed } from './email-claim.ts';

const me = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const other = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const claimBy = (userId: string, email = ' Ada@Example.com'): ClaimEmail => ({ type: 'ClaimEmail', data: { email, userId } });
const claimed: EmailClaimed = { type: 'EmailClaimed', data: { email: 'ada@example.com', userId: me } };

t.test('the stream id is named by the keyed hash, never the address', async (t) => {
  const hash = 'a'.repeat(64);
  t.equal(emailClaimStreamId(hash), `user-email-${hash}`);
});

t.test('the first claim wins, with the normalised address', async (t) => {
  given(emailClaimDecider, []).when(claimBy(me)).then(t, [claimed]);
});

t.test('a second claim by another user is refused', async (t) => {
  given(emailClaimDecider, [claimed]).when(claimBy(other)).thenThrows(t, 'EMAIL_TAKEN', ConflictError);
  given(emailClaimDecider, [claimed]).when(claimBy(other, 'ADA@example.com')).thenThrows(t, 'EMAIL_TAKEN', ConflictError);
});

t.test('the same user claiming again is a no-op', async (t) => {
  given(emailClaimDecider, [claimed]).when(claimBy(me)).then(t, []);
});

t.test('an invalid address is refused', async (t) => {
  given(emailClaimDecider, []).when(claimBy(me, 'not an email')).thenThrows(t, 'INVALID_EMAIL', ValidationError);
});

t.test('evolve keeps the first claim', async (t) => {
  given(emailClaimDecider, []).thenState(t, { status: 'initial' });
  given(emailClaimDecider, [claimed, { type: 'EmailClaimed', data: { email: 'ada@example.com', userId: other } }]).thenState(t, {
    status: 'claimed',
    email: 'ada@example.com',
    userId: me,
  });
});
