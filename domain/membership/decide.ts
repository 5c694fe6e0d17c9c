import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { canManageMembers, isRole, type Role } from '../shared/roles.ts';
import type { TenantStatus } from '../tenant/evolve.ts';
import type { AddFounder, ChangeMemberRole, JoinByInvitation, MembershipCommand, RemoveMember } from './commands.ts';
import type { MembershipEvent } from './events.ts';
import { adminCount, roleOf, type MembershipState } from './evolve.ts';

export function decideMembership(command: MembershipCommand, state: MembershipState): MembershipEvent[] {
  switch (command.type) {
    case 'AddFounder':
      return addFounder(command, state);
    case 'JoinByInvitation':
      return joinByInvitation(command, state);
    case 'ChangeMemberRole':
      return changeMemberRole(command, state);
    case 'RemoveMember':
      return removeMember(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function addFounder({ data }: AddFounder, state: MembershipState): MembershipEvent[] {
  if (state.status === 'initial') {
    return [{ type: 'MemberAdded', data: { tenantId: data.tenantId, userId: data.userId, role: 'admin', addedBy: data.userId } }];
  }
  if (roleOf(state, data.userId) === 'admin') return [];
  throw new ConflictError('ALREADY_FOUNDED', 'this tenant already has its founding admin');
}

function joinByInvitation({ data }: JoinByInvitation, state: MembershipState): MembershipEvent[] {
  if (data.tenantStatus === 'deleted') throw new ConflictError('TENANT_DELETED', 'this tenant has been deleted');
  const role = requireRole(data.role);
  if (roleOf(state, data.userId) !== null) throw new ConflictError('ALREADY_MEMBER', 'you are already a member of this tenant');
  return [{ type: 'MemberAdded', data: { tenantId: data.tenantId, userId: data.userId, role, addedBy: data.invitedBy } }];
}

function changeMemberRole({ data }: ChangeMemberRole, state: MembershipState): MembershipEvent[] {
  requireAdminOfLiveTenant(state, data.actorId, data.tenantStatus);
  const role = requireRole(data.role);
  const previousRole = requireMemberRole(state, data.userId);
  if (role === previousRole) return [];
  if (previousRole === 'admin') requireAnotherAdmin(state);
  return [
    {
      type: 'MemberRoleChanged',
      data: { tenantId: data.tenantId, userId: data.userId, role, previousRole, changedBy: data.actorId },
    },
  ];
}

function removeMember({ data }: RemoveMember, state: MembershipState): MembershipEvent[] {
  requireAdminOfLiveTenant(state, data.actorId, data.tenantStatus);
  if (requireMemberRole(state, data.userId) === 'admin') requireAnotherAdmin(state);
  return [{ type: 'MemberRemoved', data: { tenantId: data.tenantId, userId: data.userId, removedBy: data.actorId } }];
}

function requireAdminOfLiveTenant(state: MembershipState, actorId: string, tenantStatus: TenantStatus): void {
  if (tenantStatus === 'deleted') throw new ConflictError('TENANT_DELETED', 'this tenant has been deleted');
  const actorRole = roleOf(state, actorId);
  if (actorRole === null || !canManageMembers(actorRole)) {
    throw new ForbiddenError('FORBIDDEN', 'only a tenant admin can manage members');
  }
}

function requireRole(role: string): Role {
  if (!isRole(role)) throw new ValidationError('INVALID_ROLE', 'role must be admin, user or viewer');
  return role;
}

function requireMemberRole(state: MembershipState, userId: string): Role {
  const role = roleOf(state, userId);
  if (role === null) throw new NotFoundError('MEMBER_NOT_FOUND', 'this user is not a member of the tenant');
  return role;
}

/** A tenant must always keep an admin, or nobody could manage it any more. */
function requireAnotherAdmin(state: MembershipState): void {
  if (adminCount(state) <= 1) throw new ConflictError('LAST_ADMIN', 'the last admin cannot be removed or demoted');
}
