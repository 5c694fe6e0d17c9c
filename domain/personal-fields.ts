import type { DomainEventType } from './events.ts';
import { ERASED, type DataSubject, type PersonalFields } from './shared/personal-data.ts';

const str = (data: Record<string, unknown>, name: string): string => data[name] as string;
const user =
  (field: string) =>
  (data: Record<string, unknown>): DataSubject => ({ kind: 'user', userId: str(data, field) });
const erasedClient = { ip: ERASED, userAgent: null };

/**
 * Every personal field on the log, by event type, and whose key seals it. A user's own data
 * (address, name, where they logged in from) is under the user's key; what a user wrote in a
 * tenant under the key of (tenant, author), so erasing the user or deleting the tenant opens
 * neither; an invited address under (tenant, address hash); a tenant's name under the tenant's.
 * Adding a personal field: list it here and give its event a new (sealed) version in events.ts.
 */
export const personalFields: Partial<Record<DomainEventType, PersonalFields>> = {
  UserRegistered: { fields: ['email', 'displayName'], subject: user('userId'), erased: { email: ERASED, displayName: ERASED } },
  UserProfileUpdated: { fields: ['displayName'], subject: user('userId'), erased: { displayName: ERASED } },
  EmailClaimed: { fields: ['email'], subject: user('userId'), erased: { email: ERASED } },
  UserPasswordChanged: { fields: ['client'], subject: user('userId'), erased: { client: erasedClient } },
  LoginSucceeded: { fields: ['client'], subject: user('userId'), erased: { client: erasedClient } },
  LoggedOut: { fields: ['client'], subject: user('userId'), erased: { client: erasedClient } },
  RefreshTokenReuseDetected: { fields: ['client'], subject: user('userId'), erased: { client: erasedClient } },
  // An attempt on an unknown address belongs to whoever holds it: erasing that user erases it.
  LoginFailed: {
    fields: ['client'],
    erased: { client: erasedClient },
    subject: (data) =>
      data['userId'] ? { kind: 'user', userId: str(data, 'userId') } : { kind: 'address', tenantId: null, emailHash: str(data, 'emailPseudonym') },
  },
  MemberInvited: {
    fields: ['email'],
    erased: { email: ERASED },
    subject: (data) => ({ kind: 'address', tenantId: str(data, 'tenantId'), email: str(data, 'email') }),
  },
  DocumentCreated: {
    fields: ['title', 'description', 'tags', 'filename'],
    erased: { title: ERASED, description: '', tags: [], filename: ERASED },
    subject: (data) => ({ kind: 'author', tenantId: str(data, 'tenantId'), userId: str(data, 'ownerId') }),
  },
  // Whoever edits a document writes the new text: it is theirs.
  DocumentUpdated: {
    fields: ['title', 'description', 'tags'],
    erased: { title: ERASED, description: '', tags: [] },
    subject: (data, context) => ({ kind: 'author', tenantId: str(data, 'tenantId'), userId: context.actor ?? str(data, 'tenantId') }),
  },
  TenantCreated: { fields: ['name'], subject: (data) => ({ kind: 'tenant', tenantId: str(data, 'tenantId') }), erased: { name: ERASED } },
  TenantRenamed: { fields: ['name'], subject: (data) => ({ kind: 'tenant', tenantId: str(data, 'tenantId') }), erased: { name: ERASED } },
};

/** The personal fields of an event type, if it has any. */
export function personalFieldsOf(type: string): PersonalFields | undefined {
  return Object.hasOwn(personalFields, type) ? personalFields[type as DomainEventType] : undefined;
}
