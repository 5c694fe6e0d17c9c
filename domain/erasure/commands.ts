import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';

/**
 * Erase what a user left in one tenant. 'content': what they wrote (part of erasing their whole
 * account); 'member': also the tenant's record of them, on a tenant admin's request.
 */
export const EraseInTenantCommand = defineCommand('EraseInTenant', {
  tenantId: Uuid(),
  userId: Uuid(),
  erasedBy: Uuid(),
  scope: Type.Union([Type.Literal('content'), Type.Literal('member')]),
  now: Timestamp(),
});
export type EraseInTenant = Static<typeof EraseInTenantCommand>;
