import { Type, type Static } from 'typebox';
import { defineCommand, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';
import { TenantStatusSchema } from '../tenant/evolve.ts';

/**
 * The actor's role is not a command field: this stream is the authority on roles, so decide reads
 * it from its own state (roleOf) and a stale read model can never let a demoted admin act.
 * tenantStatus is looked up by the caller from the tenant stream (tenantStatusOf).
 */
const MemberCommandFacts = { tenantId: Uuid(), userId: Uuid(), actorId: Uuid(), tenantStatus: TenantStatusSchema };

/** Appended with TenantCreated: the creator becomes the first admin. */
export const AddFounderCommand = defineCommand('AddFounder', { tenantId: Uuid(), userId: Uuid() });
export type AddFounder = Static<typeof AddFounderCommand>;

export const AddMemberCommand = defineCommand('AddMember', { ...MemberCommandFacts, role: RoleSchema });
export type AddMember = Static<typeof AddMemberCommand>;

export const ChangeMemberRoleCommand = defineCommand('ChangeMemberRole', { ...MemberCommandFacts, role: RoleSchema });
export type ChangeMemberRole = Static<typeof ChangeMemberRoleCommand>;

export const RemoveMemberCommand = defineCommand('RemoveMember', MemberCommandFacts);
export type RemoveMember = Static<typeof RemoveMemberCommand>;

export const MembershipCommandSchema = Type.Union([
  AddFounderCommand,
  AddMemberCommand,
  ChangeMemberRoleCommand,
  RemoveMemberCommand,
]);
export type MembershipCommand = Static<typeof MembershipCommandSchema>;
