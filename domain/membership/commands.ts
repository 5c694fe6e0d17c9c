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

/**
 * The invitee joins with the role of an invitation they accepted (domain/invitation); the admin
 * who invited is recorded as addedBy. Nobody is added without their consent.
 */
export const JoinByInvitationCommand = defineCommand('JoinByInvitation', {
  tenantId: Uuid(),
  userId: Uuid(),
  role: RoleSchema,
  invitedBy: Uuid(),
  tenantStatus: TenantStatusSchema,
});
export type JoinByInvitation = Static<typeof JoinByInvitationCommand>;

export const ChangeMemberRoleCommand = defineCommand('ChangeMemberRole', { ...MemberCommandFacts, role: RoleSchema });
export type ChangeMemberRole = Static<typeof ChangeMemberRoleCommand>;

export const RemoveMemberCommand = defineCommand('RemoveMember', MemberCommandFacts);
export type RemoveMember = Static<typeof RemoveMemberCommand>;

export const MembershipCommandSchema = Type.Union([AddFounderCommand, JoinByInvitationCommand, ChangeMemberRoleCommand, RemoveMemberCommand]);
export type MembershipCommand = Static<typeof MembershipCommandSchema>;
