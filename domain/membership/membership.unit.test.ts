import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import type { Role } from '../shared/roles.ts';
import type { TenantStatus } from '../tenant/index.ts';
import { membershipDecider, membershipStreamId, roleOf, type MembershipCommand, type MembershipEvent } from './index.ts';

const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const founder = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const bob = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const carol = '9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c';

const added = (userId: string, role: Role, addedBy = founder): MembershipEvent => ({
  type: 'MemberAdded',
  data: { tenantId, userId, role, addedBy },
});
const founded = added(founder, 'admin');
const facts = (userId: string, actorId: string, tenantStatus: TenantStatus) => ({ tenantId, userId, actorId, tenantStatus });
const join = (userId: string, role: Role, invitedBy = founder, tenantStatus: TenantStatus = 'active'): MembershipCommand => ({
  type: 'JoinByInvitation',
  data: { tenantId, userId, role, invitedBy, tenantStatus },
});
const changeRole = (userId: string, role: Role, actorId = founder, tenantStatus: TenantStatus = 'active'): MembershipCommand => ({
  type: 'ChangeMemberRole',
  data: { ...facts(userId, actorId, tenantStatus), role },
});
const removeMember = (userId: string, actorId = founder, tenantStatus: TenantStatus = 'active'): MembershipCommand => ({
  type: 'RemoveMember',
  data: facts(userId, actorId, tenantStatus),
});

t.test('stream id', async (t) => {
  t.equal(membershipStreamId(tenantId), `tenant-${tenantId}-members`);
});

t.test('AddFounder', async (t) => {
  t.test('the creator becomes the first admin', async (t) => {
    given(membershipDecider, [])
      .when({ type: 'AddFounder', data: { tenantId, userId: founder } })
      .then(t, [founded]);
  });
  t.test('again for the same founder is a no-op', async (t) => {
    given(membershipDecider, [founded])
      .when({ type: 'AddFounder', data: { tenantId, userId: founder } })
      .then(t, []);
  });
  t.test('a second founder is refused', async (t) => {
    given(membershipDecider, [founded])
      .when({ type: 'AddFounder', data: { tenantId, userId: bob } })
      .thenThrows(t, 'ALREADY_FOUNDED', ConflictError);
  });
});

t.test('JoinByInvitation', async (t) => {
  t.test('the invitee joins with the invited role, also while the tenant is provisioning', async (t) => {
    given(membershipDecider, [founded])
      .when(join(bob, 'user'))
      .then(t, [added(bob, 'user')]);
    given(membershipDecider, [founded])
      .when(join(bob, 'viewer', founder, 'provisioning'))
      .then(t, [added(bob, 'viewer')]);
  });
  t.test('the inviting admin is recorded as addedBy', async (t) => {
    given(membershipDecider, [founded, added(bob, 'admin')])
      .when(join(carol, 'user', bob))
      .then(t, [added(carol, 'user', bob)]);
  });
  t.test('an existing member cannot join again', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(join(bob, 'viewer'))
      .thenThrows(t, 'ALREADY_MEMBER', ConflictError);
  });
  t.test('a deleted tenant takes no new members', async (t) => {
    given(membershipDecider, [founded])
      .when(join(bob, 'user', founder, 'deleted'))
      .thenThrows(t, 'TENANT_DELETED', ConflictError);
  });
  t.test('an unknown role is refused', async (t) => {
    given(membershipDecider, [founded])
      .when(join(bob, 'owner' as Role))
      .thenThrows(t, 'INVALID_ROLE', ValidationError);
  });
});

t.test('ChangeMemberRole', async (t) => {
  const roleChanged = (userId: string, role: Role, previousRole: Role): MembershipEvent => ({
    type: 'MemberRoleChanged',
    data: { tenantId, userId, role, previousRole, changedBy: founder },
  });
  t.test('an admin changes a role', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(bob, 'viewer'))
      .then(t, [roleChanged(bob, 'viewer', 'user')]);
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(bob, 'admin'))
      .then(t, [roleChanged(bob, 'admin', 'user')]);
  });
  t.test('the same role is a no-op', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(bob, 'user'))
      .then(t, []);
  });
  t.test('an admin can be demoted while another admin remains, even by himself', async (t) => {
    given(membershipDecider, [founded, added(bob, 'admin')])
      .when(changeRole(founder, 'user'))
      .then(t, [roleChanged(founder, 'user', 'admin')]);
  });
  t.test('the last admin cannot be demoted', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(founder, 'user'))
      .thenThrows(t, 'LAST_ADMIN', ConflictError);
  });
  t.test('a non-member is not found', async (t) => {
    given(membershipDecider, [founded]).when(changeRole(bob, 'user')).thenThrows(t, 'MEMBER_NOT_FOUND', NotFoundError);
  });
  t.test('only admins, and not on a deleted tenant', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(bob, 'admin', bob))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(changeRole(bob, 'viewer', founder, 'deleted'))
      .thenThrows(t, 'TENANT_DELETED', ConflictError);
  });
});

t.test('RemoveMember', async (t) => {
  const removed = (userId: string): MembershipEvent => ({ type: 'MemberRemoved', data: { tenantId, userId, removedBy: founder } });
  t.test('an admin removes a member', async (t) => {
    given(membershipDecider, [founded, added(bob, 'viewer')])
      .when(removeMember(bob))
      .then(t, [removed(bob)]);
  });
  t.test('an admin can leave while another admin remains', async (t) => {
    given(membershipDecider, [founded, added(bob, 'admin')])
      .when(removeMember(founder))
      .then(t, [removed(founder)]);
  });
  t.test('the last admin cannot be removed', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(removeMember(founder))
      .thenThrows(t, 'LAST_ADMIN', ConflictError);
  });
  t.test('a non-member is not found', async (t) => {
    given(membershipDecider, [founded]).when(removeMember(bob)).thenThrows(t, 'MEMBER_NOT_FOUND', NotFoundError);
  });
  t.test('only admins, and not on a deleted tenant', async (t) => {
    given(membershipDecider, [founded, added(bob, 'user'), added(carol, 'user')])
      .when(removeMember(carol, bob))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
    given(membershipDecider, [founded, added(bob, 'user')])
      .when(removeMember(bob, founder, 'deleted'))
      .thenThrows(t, 'TENANT_DELETED', ConflictError);
  });
});

t.test('evolve and roleOf', async (t) => {
  const history: MembershipEvent[] = [
    founded,
    added(bob, 'user'),
    added(carol, 'viewer'),
    { type: 'MemberRoleChanged', data: { tenantId, userId: bob, role: 'admin', previousRole: 'user', changedBy: founder } },
    { type: 'MemberRemoved', data: { tenantId, userId: carol, removedBy: founder } },
  ];
  given(membershipDecider, []).thenState(t, { status: 'initial' });
  given(membershipDecider, history).thenState(t, {
    status: 'active',
    tenantId,
    members: [
      { userId: founder, role: 'admin' },
      { userId: bob, role: 'admin' },
    ],
  });
  const state = history.reduce(membershipDecider.evolve, membershipDecider.initialState());
  t.equal(roleOf(state, bob), 'admin');
  t.equal(roleOf(state, carol), null);
  t.equal(roleOf(membershipDecider.initialState(), founder), null);
});
