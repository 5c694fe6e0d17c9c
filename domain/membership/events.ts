import { Type, type Static } from 'typebox';
import { defineEvent, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';

export const MemberAddedEvent = defineEvent('MemberAdded', {
  tenantId: Uuid(),
  userId: Uuid(),
  role: RoleSchema,
  addedBy: Uuid(),
});
export type MemberAdded = Static<typeof MemberAddedEvent>;

export const MemberRoleChangedEvent = defineEvent('MemberRoleChanged', {
  tenantId: Uuid(),
  userId: Uuid(),
  role: RoleSchema,
  previousRole: RoleSchema,
  changedBy: Uuid(),
});
export type MemberRoleChanged = Static<typeof MemberRoleChangedEvent>;

export const MemberRemovedEvent = defineEvent('MemberRemoved', {
  tenantId: Uuid(),
  userId: Uuid(),
  removedBy: Uuid(),
});
export type MemberRemoved = Static<typeof MemberRemovedEvent>;

export const MembershipEventSchema = Type.Union([MemberAddedEvent, MemberRoleChangedEvent, MemberRemovedEvent]);
export type MembershipEvent = Static<typeof MembershipEventSchema>;
