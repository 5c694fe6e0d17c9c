import type { Role } from '../shared/roles.ts';
import type { MembershipEvent } from './events.ts';

export type Member = { userId: string; role: Role };

export type MembershipState = { status: 'initial' } | { status: 'active'; tenantId: string; members: readonly Member[] };

export const initialMembershipState = (): MembershipState => ({ status: 'initial' });

export function roleOf(state: MembershipState, userId: string): Role | null {
  if (state.status === 'initial') return null;
  return state.members.find((member) => member.userId === userId)?.role ?? null;
}

export function adminCount(state: MembershipState): number {
  return state.status === 'initial' ? 0 : state.members.filter((member) => member.role === 'admin').length;
}

export function evolveMembership(state: MembershipState, event: MembershipEvent): MembershipState {
  const { tenantId, userId } = event.data;
  const members = state.status === 'initial' ? [] : state.members;
  switch (event.type) {
    case 'MemberAdded':
      return { status: 'active', tenantId, members: [...members, { userId, role: event.data.role }] };
    case 'MemberRoleChanged':
      return {
        status: 'active',
        tenantId,
        members: members.map((member) => (member.userId === userId ? { userId, role: event.data.role } : member)),
      };
    case 'MemberRemoved':
      return { status: 'active', tenantId, members: members.filter((member) => member.userId !== userId) };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
