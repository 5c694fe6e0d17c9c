import { Type, type Static } from 'typebox';

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('viewer')]);
export type Role = Static<typeof RoleSchema>;

export const ROLES: readonly Role[] = ['admin', 'user', 'viewer'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function canManageTenant(role: Role): boolean {
  return role === 'admin';
}

export function canManageMembers(role: Role): boolean {
  return role === 'admin';
}

/** Create documents; updating or deleting also needs `canModifyDocument`. */
export function canWriteDocuments(role: Role): boolean {
  return role === 'admin' || role === 'user';
}

export function canModifyDocument(role: Role, actorId: string, ownerId: string): boolean {
  switch (role) {
    case 'admin':
      return true;
    case 'user':
      return actorId === ownerId;
    case 'viewer':
      return false;
    default: {
      const _exhaustive: never = role;
      return _exhaustive;
    }
  }
}
