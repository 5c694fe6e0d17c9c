import { Type, type Static, type TSchema } from 'typebox';
import { DocumentCreatedEvent, DocumentDeletedEvent, DocumentUpdatedEvent, DownloadUrlIssuedEvent } from './document/events.ts';
import { DocumentAttachedEvent, DocumentDetachedEvent, FileDeletionScheduledEvent, FileObjectDeletedEvent, FileStoredEvent } from './file/events.ts';
import { MemberAddedEvent, MemberRemovedEvent, MemberRoleChangedEvent } from './membership/events.ts';
import { NotificationPreferencesChangedEvent, NotificationsReadEvent } from './notification-inbox/events.ts';
import { InvitationAcceptedEvent, InvitationDeclinedEvent, MemberInvitedEvent } from './invitation/events.ts';
import {
  TenantCreatedEvent,
  TenantDeletedEvent,
  TenantPlacedEvent,
  TenantProvisionedEvent,
  TenantProvisioningFailedEvent,
  TenantRenamedEvent,
} from './tenant/events.ts';
import { SlugClaimedEvent } from './tenant/slug-claim.ts';
import { EmailClaimedEvent } from './user/email-claim.ts';
import { UserPasswordChangedEvent, UserPasswordChangedEventV1, UserProfileUpdatedEvent, UserRegisteredEvent } from './user/events.ts';
import { LoggedOutEvent, LoginFailedEvent, LoginSucceededEvent, RefreshTokenReuseDetectedEvent } from './auth-activity/events.ts';
import { SubjectErasedEvent, TenantContentErasedEvent } from './erasure/events.ts';
import { personalFields } from './personal-fields.ts';
import { sealedEventSchema } from './shared/personal-data.ts';
import {
  WebhookDisabledEvent,
  WebhookEnabledEvent,
  WebhookRemovedEvent,
  WebhookSecretRotatedEvent,
  WebhookSubscribedEvent,
  WebhookUpdatedEvent,
} from './webhook/events.ts';

/**
 * The published contract for projectors and audit consumers. A change to an event's shape gets a
 * new schemaVersion (and an upcaster); never edit a published version in place.
 */
export const AnyDomainEventSchema = Type.Union([
  UserRegisteredEvent,
  UserPasswordChangedEvent,
  UserProfileUpdatedEvent,
  EmailClaimedEvent,
  TenantCreatedEvent,
  TenantPlacedEvent,
  TenantRenamedEvent,
  TenantProvisionedEvent,
  TenantProvisioningFailedEvent,
  TenantDeletedEvent,
  SlugClaimedEvent,
  MemberAddedEvent,
  MemberRoleChangedEvent,
  MemberRemovedEvent,
  MemberInvitedEvent,
  InvitationAcceptedEvent,
  InvitationDeclinedEvent,
  FileStoredEvent,
  DocumentAttachedEvent,
  DocumentDetachedEvent,
  FileDeletionScheduledEvent,
  FileObjectDeletedEvent,
  DocumentCreatedEvent,
  DocumentUpdatedEvent,
  DocumentDeletedEvent,
  DownloadUrlIssuedEvent,
  WebhookSubscribedEvent,
  WebhookUpdatedEvent,
  WebhookSecretRotatedEvent,
  WebhookDisabledEvent,
  WebhookEnabledEvent,
  WebhookRemovedEvent,
  NotificationsReadEvent,
  NotificationPreferencesChangedEvent,
  LoginSucceededEvent,
  LoginFailedEvent,
  LoggedOutEvent,
  RefreshTokenReuseDetectedEvent,
  SubjectErasedEvent,
  TenantContentErasedEvent,
]);
export type AnyDomainEvent = Static<typeof AnyDomainEventSchema>;
export type DomainEventType = AnyDomainEvent['type'];

/** platform: users, authentication, email claims, tenants, slugs, memberships, invitations, webhooks; documents: files, documents, download URLs. */
export type EventCategory = 'platform' | 'documents';

/** An earlier shape of an event, still on the log: readers upcast it (domain/upcasters.ts). */
export type PreviousVersion = { schemaVersion: number; schema: TSchema };

export type EventDefinition = {
  type: DomainEventType;
  /** The current version: what the deciders emit and every reader sees after upcasting. */
  schemaVersion: number;
  category: EventCategory;
  schema: TSchema;
  description: string;
  previousVersions: PreviousVersion[];
};

type Definition = Omit<EventDefinition, 'type'>;
const platform = (schema: TSchema, description: string): Definition => ({ schemaVersion: 1, category: 'platform', schema, description, previousVersions: [] });
const documents = (schema: TSchema, description: string): Definition => ({
  schemaVersion: 1,
  category: 'documents',
  schema,
  description,
  previousVersions: [],
});
/** A later version of an event: the current schema and every earlier one, oldest first. */
const revised = (definition: Definition, previous: TSchema[]): Definition => ({
  ...definition,
  schemaVersion: previous.length + 1,
  previousVersions: previous.map((schema, i) => ({ schemaVersion: i + 1, schema })),
});

// A Record over every event type, so adding an event without describing it does not compile.
const definitions: Record<DomainEventType, Definition> = {
  UserRegistered: platform(UserRegisteredEvent, 'A user account was created (email normalised).'),
  UserPasswordChanged: revised(platform(UserPasswordChangedEvent, 'A user changed their password, from this client (the hash is never published).'), [
    UserPasswordChangedEventV1,
  ]),
  UserProfileUpdated: platform(UserProfileUpdatedEvent, 'A user changed their display name.'),
  EmailClaimed: platform(EmailClaimedEvent, 'An email address was reserved for a user; the first claim wins.'),
  TenantCreated: platform(TenantCreatedEvent, 'A tenant was created; its database is provisioned next.'),
  TenantPlaced: platform(
    TenantPlacedEvent,
    "Where the tenant's database lives: a server by name and the database on it (at creation, and after an operator's move).",
  ),
  TenantRenamed: platform(TenantRenamedEvent, "A tenant's display name changed."),
  TenantProvisioned: platform(TenantProvisionedEvent, "The tenant's database exists and is migrated."),
  TenantProvisioningFailed: platform(TenantProvisioningFailedEvent, 'An attempt to provision the tenant database failed; it will be retried.'),
  TenantDeleted: platform(TenantDeletedEvent, 'A tenant was deleted by an admin; it accepts no more commands.'),
  SlugClaimed: platform(SlugClaimedEvent, 'A tenant slug was reserved for a tenant; the first claim wins.'),
  MemberAdded: platform(MemberAddedEvent, 'A user joined a tenant with a role.'),
  MemberRoleChanged: platform(MemberRoleChangedEvent, "A member's role in a tenant changed."),
  MemberRemoved: platform(MemberRemovedEvent, 'A user was removed from a tenant.'),
  MemberInvited: platform(MemberInvitedEvent, 'A tenant admin invited an email address to join with a role.'),
  InvitationAccepted: platform(InvitationAcceptedEvent, 'The holder of an invited address accepted; MemberAdded follows in the same transaction.'),
  InvitationDeclined: platform(InvitationDeclinedEvent, 'The holder of an invited address declined.'),
  FileStored: documents(FileStoredEvent, 'New content was stored in a tenant (deduplicated by SHA-256 and size).'),
  DocumentAttached: documents(DocumentAttachedEvent, 'A document started using a stored file.'),
  DocumentDetached: documents(DocumentDetachedEvent, 'A document stopped using a stored file.'),
  FileDeletionScheduled: documents(FileDeletionScheduledEvent, 'A stored file is no longer used: its object is to be deleted.'),
  FileObjectDeleted: documents(FileObjectDeletedEvent, "A stored file's object was deleted from object storage."),
  DocumentCreated: documents(DocumentCreatedEvent, 'A document was uploaded.'),
  DocumentUpdated: documents(DocumentUpdatedEvent, "A document's metadata changed (only the changed fields)."),
  DocumentDeleted: documents(DocumentDeletedEvent, 'A document was deleted.'),
  DownloadUrlIssued: documents(DownloadUrlIssuedEvent, 'A pre-signed download URL was issued to a member.'),
  WebhookSubscribed: platform(WebhookSubscribedEvent, 'A tenant admin subscribed a URL to events (the secret is never published, only its version).'),
  WebhookUpdated: platform(WebhookUpdatedEvent, "A webhook's URL, event filter or description changed (only the changed fields)."),
  WebhookSecretRotated: platform(
    WebhookSecretRotatedEvent,
    "A webhook's signing secret was replaced; the previous one signs beside it until previousValidUntil.",
  ),
  WebhookDisabled: platform(WebhookDisabledEvent, 'A webhook stopped receiving events: by an admin, or after a run of failed deliveries.'),
  WebhookEnabled: platform(WebhookEnabledEvent, 'A disabled webhook was enabled again by an admin.'),
  WebhookRemoved: platform(WebhookRemovedEvent, 'A webhook was removed by an admin.'),
  NotificationsRead: platform(NotificationsReadEvent, 'A user marked notifications as read (by id, or all up to a position).'),
  NotificationPreferencesChanged: platform(NotificationPreferencesChangedEvent, 'A user turned email on or off for kinds of notification.'),
  LoginSucceeded: platform(LoginSucceededEvent, 'A user logged in: a new session began (IP and User-Agent; never a token).'),
  LoginFailed: platform(LoginFailedEvent, 'A login was refused: the user when the email is known, else only a keyed pseudonym of the email.'),
  LoggedOut: platform(LoggedOutEvent, 'A user ended a session.'),
  RefreshTokenReuseDetected: platform(RefreshTokenReuseDetectedEvent, 'A rotated refresh token was presented again: its session was revoked.'),
  SubjectErased: platform(SubjectErasedEvent, "A user's personal data was erased (their keys deleted): the whole account, or what they left in one tenant."),
  TenantContentErased: documents(TenantContentErasedEvent, 'What a user wrote in a tenant (titles, filenames, descriptions, tags) was erased.'),
};

/**
 * Events with personal fields (personal-fields.ts) are published sealed: the plain shape is the
 * previous version (what older rows hold, and what readers see once the fields are opened).
 */
function sealing(type: DomainEventType, definition: Definition): Definition {
  const personal = personalFields[type];
  if (!personal) return definition;
  const previous = [...definition.previousVersions.map((p) => p.schema), definition.schema];
  return revised({ ...definition, schema: sealedEventSchema(definition.schema, personal.fields) }, previous);
}
for (const type of Object.keys(definitions) as DomainEventType[]) definitions[type] = sealing(type, definitions[type]);

export const eventCatalogue: readonly EventDefinition[] = Object.entries(definitions).map(([type, definition]) => ({
  type: type as DomainEventType,
  ...definition,
}));

/** The plain shape of an event (its fields opened): what deciders emit and readers see. */
export function plainSchemaVersion(type: DomainEventType): number {
  return definitions[type].schemaVersion - (personalFields[type] ? 1 : 0);
}

export function isDomainEventType(type: string): type is DomainEventType {
  return Object.hasOwn(definitions, type);
}

export function eventDefinition(type: DomainEventType): EventDefinition {
  return { type, ...definitions[type] };
}

export function eventCategory(type: DomainEventType): EventCategory {
  return definitions[type].category;
}

/** The version deciders emit and readers see; undefined for a type this code does not know. */
export function currentSchemaVersion(type: string): number | undefined {
  return isDomainEventType(type) ? definitions[type].schemaVersion : undefined;
}
