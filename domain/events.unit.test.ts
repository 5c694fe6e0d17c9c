import t from 'tap';
import { Value } from 'typebox/value';
import { documentDecider } from './document/index.ts';
import { AnyDomainEventSchema, eventCatalogue, eventCategory, eventDefinition, isDomainEventType, type AnyDomainEvent } from './events.ts';
import { decideUpload, fileDecider, type FileCommand } from './file/index.ts';
import { membershipDecider } from './membership/index.ts';
import { notificationInboxDecider } from './notification-inbox/index.ts';
import { invitationDecider } from './invitation/index.ts';
import { foldEvents } from './shared/decider.ts';
import { slugClaimDecider, tenantDatabaseName, tenantDecider } from './tenant/index.ts';
import { emailClaimDecider, userDecider, UserCommandSchema } from './user/index.ts';
import { webhookDecider } from './webhook/index.ts';
import { authActivityDecider } from './auth-activity/index.ts';
import { tenantErasureDecider } from './erasure/index.ts';
import { personalFieldsOf } from './personal-fields.ts';
import { wrapLegacyFields } from './shared/personal-data.ts';

const userId = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const viewerId = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const documentId = 'd0c00000-0000-4000-8000-000000000001';
const fileId = 'a1b2c3d4-0000-4000-8000-000000000001';
const now = '2025-01-02T03:04:05.000Z';

/** One pass through every decider, collecting what each really emits. */
function emittedEvents(): AnyDomainEvent[] {
  const all: AnyDomainEvent[] = [];
  const run = <C, E extends AnyDomainEvent, S>(decider: { decide: (c: C, s: S) => E[]; evolve: (s: S, e: E) => S; initialState: () => S }, commands: C[]) => {
    let state = decider.initialState();
    for (const command of commands) {
      const events = decider.decide(command, state);
      state = foldEvents(decider, events, state);
      all.push(...events);
    }
  };
  run(userDecider, [
    { type: 'RegisterUser', data: { userId, email: 'Ada@Example.com', displayName: 'Ada', now } },
    { type: 'ChangePassword', data: { userId, actorId: userId, client: { ip: '::1', userAgent: null }, now } },
    { type: 'UpdateProfile', data: { userId, actorId: userId, displayName: 'Countess', now } },
    { type: 'EraseUser', data: { userId, actorId: userId, now } },
  ]);
  run(tenantErasureDecider, [{ type: 'EraseInTenant', data: { tenantId, userId: viewerId, erasedBy: userId, scope: 'member', now } }]);
  const client = { ip: '198.51.100.4', userAgent: 'Mozilla/5.0' };
  const sessionId = '5e55105e-0000-4000-8000-000000000001';
  run(authActivityDecider, [
    { type: 'RecordLoginSucceeded', data: { userId, sessionId, client, now } },
    { type: 'RecordLoginFailed', data: { userId, emailPseudonym: null, client, now } },
    { type: 'RecordLoginFailed', data: { userId: null, emailPseudonym: 'ab'.repeat(32), client, now } },
    { type: 'RecordLogout', data: { userId, sessionId, client, now } },
    { type: 'RecordRefreshTokenReuse', data: { userId, sessionId, client, now } },
  ]);
  run(emailClaimDecider, [{ type: 'ClaimEmail', data: { email: 'ada@example.com', userId } }]);
  const databaseName = tenantDatabaseName('acme', tenantId);
  run(tenantDecider, [
    {
      type: 'CreateTenant',
      data: { tenantId, name: 'Acme', slug: 'acme', databaseName, actorId: userId, now, tenantsOfActor: 0, tenantQuota: 10, tenantsPerServer: { main: 0 } },
    },
    { type: 'MarkTenantProvisioningFailed', data: { reason: 'timeout', attempt: 1, now } },
    { type: 'MarkTenantProvisioned', data: { databaseName, now } },
    { type: 'PlaceTenant', data: { server: 'pg2', database: databaseName, servers: ['main', 'pg2'] } },
    { type: 'RenameTenant', data: { name: 'Acme Inc', actorRole: 'admin' } },
    { type: 'DeleteTenant', data: { actorId: userId, actorRole: 'admin', now } },
  ]);
  run(slugClaimDecider, [{ type: 'ClaimSlug', data: { slug: 'acme', tenantId } }]);
  const facts = { tenantId, userId: viewerId, actorId: userId, tenantStatus: 'active' as const };
  run(membershipDecider, [
    { type: 'AddFounder', data: { tenantId, userId } },
    { type: 'JoinByInvitation', data: { tenantId, userId: viewerId, role: 'viewer', invitedBy: userId, tenantStatus: 'active' } },
    { type: 'ChangeMemberRole', data: { ...facts, role: 'user' } },
    { type: 'RemoveMember', data: facts },
  ]);
  const invitationId = 'b0b00000-0000-4000-8000-000000000001';
  const invited = {
    type: 'InviteMember' as const,
    data: {
      invitationId,
      tenantId,
      email: 'Viewer@Example.com',
      role: 'viewer' as const,
      actorId: userId,
      actorRole: 'admin' as const,
      tenantStatus: 'active' as const,
      now,
    },
  };
  run(invitationDecider, [invited, { type: 'AcceptInvitation', data: { invitationId, userId: viewerId, userEmail: 'viewer@example.com', now } }]);
  run(invitationDecider, [invited, { type: 'DeclineInvitation', data: { invitationId, userId: viewerId, userEmail: 'viewer@example.com', now } }]);
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const store = {
    type: 'StoreFile' as const,
    data: { fileId, tenantId, s3Key: `${tenantId}/${fileId}`, md5: 'd41d8cd98f00b204e9800998ecf8427e', sha256, size: 1, contentType: 'text/plain', now },
  };
  const upload = decideUpload(store, documentId, fileDecider.initialState());
  all.push(...upload.events);
  const detachAndDelete: FileCommand[] = [
    { type: 'DetachDocument', data: { documentId } },
    { type: 'MarkFileObjectDeleted', data: { fileId, now } },
  ];
  let fileState = foldEvents(fileDecider, upload.events);
  for (const command of detachAndDelete) {
    const events = fileDecider.decide(command, fileState);
    fileState = foldEvents(fileDecider, events, fileState);
    all.push(...events);
  }
  run(documentDecider, [
    {
      type: 'CreateDocument',
      data: { documentId, tenantId, fileId, filename: 'a.txt', contentType: 'text/plain', size: 1, ownerId: userId, actorRole: 'user', now },
    },
    { type: 'UpdateDocument', data: { title: 'A', tags: ['x'], actorId: userId, actorRole: 'user', now } },
    { type: 'IssueDownloadUrl', data: { actorId: viewerId, expiresInSeconds: 60, expiresAt: now, now } },
    { type: 'DeleteDocument', data: { actorId: userId, actorRole: 'user', now } },
  ]);
  const webhookFacts = { tenantId, actorId: userId, actorRole: 'admin' as const, now };
  run(webhookDecider, [
    { type: 'SubscribeWebhook', data: { ...webhookFacts, webhookId: fileId, url: 'https://hooks.example.com/', events: ['*'], description: '' } },
    { type: 'UpdateWebhook', data: { ...webhookFacts, events: ['DocumentCreated'], enabled: false } },
    { type: 'UpdateWebhook', data: { ...webhookFacts, enabled: true } },
    { type: 'RotateWebhookSecret', data: { ...webhookFacts, previousValidUntil: now } },
    { type: 'DisableFailingWebhook', data: { tenantId, failedDeliveries: 5, actor: 'system:webhooks', now } },
    { type: 'RemoveWebhook', data: webhookFacts },
  ]);
  run(notificationInboxDecider, [
    { type: 'MarkNotificationsRead', data: { userId, notificationIds: [documentId], upToPosition: 7, now } },
    { type: 'SetNotificationPreferences', data: { userId, email: [{ kind: 'document-uploaded', enabled: false }], now } },
  ]);
  return all;
}

t.test('the catalogue lists every event type once, each with all its versions', async (t) => {
  const types = eventCatalogue.map((definition) => definition.type);
  t.equal(new Set(types).size, types.length);
  t.equal(types.length, 40);
  t.ok(eventCatalogue.every((definition) => definition.description.length > 0));
  for (const definition of eventCatalogue) {
    t.same(
      definition.previousVersions.map((v) => v.schemaVersion),
      Array.from({ length: definition.schemaVersion - 1 }, (_, i) => i + 1),
      `${definition.type}: versions 1..${definition.schemaVersion}`,
    );
  }
  t.equal(eventDefinition('UserPasswordChanged').schemaVersion, 3);
});

t.test('categories', async (t) => {
  t.equal(eventCategory('TenantCreated'), 'platform');
  t.equal(eventCategory('EmailClaimed'), 'platform');
  t.equal(eventCategory('MemberAdded'), 'platform');
  t.equal(eventCategory('FileStored'), 'documents');
  t.equal(eventCategory('DownloadUrlIssued'), 'documents');
  t.ok(isDomainEventType('DocumentCreated'));
  t.notOk(isDomainEventType('toString'));
  t.notOk(isDomainEventType('SomethingElse'));
});

t.test('every event the deciders emit matches its published schema', async (t) => {
  const events = emittedEvents();
  t.same(new Set(events.map((event) => event.type)), new Set(eventCatalogue.map((definition) => definition.type)), 'all types exercised');
  for (const event of events) {
    const definition = eventDefinition(event.type);
    const personal = personalFieldsOf(event.type);
    // Deciders emit personal fields in the clear (the plain, previous version); the log gets them sealed.
    const plain = personal ? definition.previousVersions.at(-1)!.schema : definition.schema;
    t.ok(Value.Check(plain, event), `${event.type} matches its plain schema`);
    const sealed = personal ? { ...event, data: wrapLegacyFields(personal.fields)(event.data as Record<string, unknown>) } : event;
    t.ok(Value.Check(definition.schema, sealed), `${event.type} sealed matches its published schema`);
    if (personal) t.notOk(Value.Check(definition.schema, event), `${event.type} in the clear is refused by the published schema`);
    t.ok(Value.Check(AnyDomainEventSchema, event), `${event.type} matches the union`);
  }
});

t.test('schemas refuse fields they do not declare (no secrets sneak onto the log)', async (t) => {
  const leaky = { type: 'UserPasswordChanged', data: { userId, changedAt: now, passwordHash: '$2b$12$...' } };
  t.notOk(Value.Check(eventDefinition('UserPasswordChanged').schema, leaky));
});

t.test('command schemas validate commands at the edge', async (t) => {
  t.ok(Value.Check(UserCommandSchema, { type: 'RegisterUser', data: { userId, email: 'a@b.co', displayName: 'A', now } }));
  t.notOk(Value.Check(UserCommandSchema, { type: 'RegisterUser', data: { userId: 'nope', email: 'a@b.co', displayName: 'A', now } }));
  t.notOk(Value.Check(UserCommandSchema, { type: 'RegisterUser', data: { userId, email: 'a@b.co', displayName: 'A', now: 'yesterday' } }));
});
