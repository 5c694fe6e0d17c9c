import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';

export const MemberInvitedEvent = defineEvent('MemberInvited', {
  invitationId: Uuid(),
  tenantId: Uuid(),
  email: Type.String({ minLength: 3, maxLength: 254 }),
  role: RoleSchema,
  invitedBy: Uuid(),
  invitedAt: Timestamp(),
});
export type MemberInvited = Static<typeof MemberInvitedEvent>;

export const InvitationAcceptedEvent = defineEvent('InvitationAccepted', {
  invitationId: Uuid(),
  tenantId: Uuid(),
  userId: Uuid(),
  acceptedAt: Timestamp(),
});
export type InvitationAccepted = Static<typeof InvitationAcceptedEvent>;

export const InvitationDeclinedEvent = defineEvent('InvitationDeclined', {
  invitationId: Uuid(),
  tenantId: Uuid(),
  userId: Uuid(),
  declinedAt: Timestamp(),
});
export type InvitationDeclined = Static<typeof InvitationDeclinedEvent>;

export const InvitationEventSchema = Type.Union([MemberInvitedEvent, InvitationAcceptedEvent, InvitationDeclinedEvent]);
export type InvitationEvent = Static<typeof InvitationEventSchema>;
