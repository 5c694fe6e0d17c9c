import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';
import { TenantStatusSchema } from '../tenant/evolve.ts';

/**
 * An admin invites an address (registered or not: the answer is the same, so inviting reveals
 * nothing about who has an account). actorRole is read by the caller from the membership stream,
 * tenantStatus from the tenant stream.
 */
export const InviteMemberCommand = defineCommand('InviteMember', {
  invitationId: Uuid(),
  tenantId: Uuid(),
  email: Type.String(),
  role: RoleSchema,
  actorId: Uuid(),
  actorRole: RoleSchema,
  tenantStatus: TenantStatusSchema,
  now: Timestamp(),
});
export type InviteMember = Static<typeof InviteMemberCommand>;

/** The invitee answers; userEmail is the caller's address, read from their user stream. */
const Answer = { invitationId: Uuid(), userId: Uuid(), userEmail: Type.String(), now: Timestamp() };

export const AcceptInvitationCommand = defineCommand('AcceptInvitation', Answer);
export type AcceptInvitation = Static<typeof AcceptInvitationCommand>;

export const DeclineInvitationCommand = defineCommand('DeclineInvitation', Answer);
export type DeclineInvitation = Static<typeof DeclineInvitationCommand>;

export const InvitationCommandSchema = Type.Union([InviteMemberCommand, AcceptInvitationCommand, DeclineInvitationCommand]);
export type InvitationCommand = Static<typeof InvitationCommandSchema>;
