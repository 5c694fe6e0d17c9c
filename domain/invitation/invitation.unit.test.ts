import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import type { Role } from '../shared/roles.ts';
import type { TenantStatus } from '../tenant/index.ts';
import { invitationDecider, invitationStreamId, type InvitationCommand, type InvitationEvent } from './index.ts';

const invitationId = 'b0b00000-0000-4000-8000-000000000001';
const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const admin = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const bob = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const now = '2025-01-02T03:04:05.000Z';

const invite = (overrides: Partial<{ email: string; actorRole: Role; tenantStatus: TenantStatus }> = {}): InvitationCommand => ({
  type: 'InviteMember',
  data: { invitationId, tenantId, email: ' Bob@Example.com ', role: 'user', actorId: admin, actorRole: 'admin', tenantStatus: 'active', now, ...overrides },
});
const answer = (type: 'AcceptInvitation' | 'DeclineInvitation', userEmail = 'BOB@example.com'): InvitationCommand => ({
  type,
  data: { invitationId, userId: bob, userEmail, now },
});

const invited: InvitationEvent = {
  type: 'MemberInvited',
  data: { invitationId, tenantId, email: 'bob@example.com', role: 'user', invitedBy: admin, invitedAt: now },
};
const accepted: InvitationEvent = { type: 'InvitationAccepted', data: { invitationId, tenantId, userId: bob, acceptedAt: now } };
const declined: InvitationEvent = { type: 'InvitationDeclined', data: { invitationId, tenantId, userId: bob, declinedAt: now } };

t.test('stream id', async (t) => {
  t.equal(invitationStreamId(invitationId), `invitation-${invitationId}`);
});

t.test('InviteMember', async (t) => {
  t.test('an admin invites a normalised address, registered or not', async (t) => {
    given(invitationDecider, []).when(invite()).then(t, [invited]);
  });
  t.test('users and viewers cannot invite', async (t) => {
    given(invitationDecider, [])
      .when(invite({ actorRole: 'user' }))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(invitationDecider, [])
      .when(invite({ actorRole: 'viewer' }))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('a deleted tenant invites nobody', async (t) => {
    given(invitationDecider, [])
      .when(invite({ tenantStatus: 'deleted' }))
      .thenThrows(t, 'TENANT_DELETED', ConflictError);
  });
  t.test('a malformed address is refused', async (t) => {
    given(invitationDecider, [])
      .when(invite({ email: 'not-an-email' }))
      .thenThrows(t, 'INVALID_EMAIL', ValidationError);
  });
  t.test('the same invitation id twice is a conflict', async (t) => {
    given(invitationDecider, [invited]).when(invite()).thenThrows(t, 'INVITATION_EXISTS', ConflictError);
  });
});

t.test('AcceptInvitation and DeclineInvitation', async (t) => {
  t.test('the holder of the address accepts or declines (case-insensitive)', async (t) => {
    given(invitationDecider, [invited]).when(answer('AcceptInvitation')).then(t, [accepted]);
    given(invitationDecider, [invited]).when(answer('DeclineInvitation')).then(t, [declined]);
  });
  t.test('anybody else finds no such invitation', async (t) => {
    given(invitationDecider, [invited]).when(answer('AcceptInvitation', 'mallory@example.com')).thenThrows(t, 'INVITATION_NOT_FOUND', NotFoundError);
    given(invitationDecider, []).when(answer('AcceptInvitation')).thenThrows(t, 'INVITATION_NOT_FOUND', NotFoundError);
  });
  t.test('answering again the same way changes nothing; the other way is a conflict', async (t) => {
    given(invitationDecider, [invited, accepted]).when(answer('AcceptInvitation')).then(t, []);
    given(invitationDecider, [invited, declined]).when(answer('DeclineInvitation')).then(t, []);
    given(invitationDecider, [invited, accepted]).when(answer('DeclineInvitation')).thenThrows(t, 'INVITATION_ANSWERED', ConflictError);
    given(invitationDecider, [invited, declined]).when(answer('AcceptInvitation')).thenThrows(t, 'INVITATION_ANSWERED', ConflictError);
  });
});
