import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

/**
 * A data subject was erased: their keys are gone, so every sealed field of theirs reads as
 * erased; read models scrub what they copied. tenantId null: the whole account (the user's own
 * request); set: only what the user left in that tenant (its admin's request). No personal data.
 */
export const SubjectErasedEvent = defineEvent('SubjectErased', {
  userId: Uuid(),
  tenantId: Type.Union([Uuid(), Type.Null()]),
  erasedBy: Uuid(),
  erasedAt: Timestamp(),
});
export type SubjectErased = Static<typeof SubjectErasedEvent>;

/** What a user wrote in a tenant (titles, filenames, descriptions, tags) was erased: the tenant's read models scrub it. */
export const TenantContentErasedEvent = defineEvent('TenantContentErased', {
  tenantId: Uuid(),
  userId: Uuid(),
  erasedBy: Uuid(),
  erasedAt: Timestamp(),
});
export type TenantContentErased = Static<typeof TenantContentErasedEvent>;

export const ErasureEventSchema = Type.Union([SubjectErasedEvent, TenantContentErasedEvent]);
export type ErasureEvent = Static<typeof ErasureEventSchema>;
