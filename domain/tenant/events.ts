import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

const TenantName = () => Type.String({ minLength: 1, maxLength: 200 });
const DatabaseName = () => Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$', examples: ['tenant_acme_3fa85f64'] });

export const TenantCreatedEvent = defineEvent('TenantCreated', {
  tenantId: Uuid(),
  name: TenantName(),
  slug: Type.String({ minLength: 3, maxLength: 40 }),
  databaseName: DatabaseName(),
  createdBy: Uuid(),
  createdAt: Timestamp(),
});
export type TenantCreated = Static<typeof TenantCreatedEvent>;

/**
 * Where the tenant's database lives: a server by name (configuration maps names to connection
 * URLs, which never appear on the log) and the database on it. First emitted with TenantCreated;
 * again when an operator moves the tenant (`npm run tenants -- move`), once the new database
 * has caught up.
 */
export const TenantPlacedEvent = defineEvent('TenantPlaced', {
  tenantId: Uuid(),
  server: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$', examples: ['main'] }),
  database: DatabaseName(),
});
export type TenantPlaced = Static<typeof TenantPlacedEvent>;

export const TenantRenamedEvent = defineEvent('TenantRenamed', { tenantId: Uuid(), name: TenantName() });
export type TenantRenamed = Static<typeof TenantRenamedEvent>;

export const TenantProvisionedEvent = defineEvent('TenantProvisioned', {
  tenantId: Uuid(),
  databaseName: DatabaseName(),
  provisionedAt: Timestamp(),
});
export type TenantProvisioned = Static<typeof TenantProvisionedEvent>;

/** reason is read by everyone on the log: the provisioner must not put connection strings in it. */
export const TenantProvisioningFailedEvent = defineEvent('TenantProvisioningFailed', {
  tenantId: Uuid(),
  reason: Type.String({ minLength: 1, maxLength: 1000 }),
  attempt: Type.Integer({ minimum: 1 }),
  failedAt: Timestamp(),
});
export type TenantProvisioningFailed = Static<typeof TenantProvisioningFailedEvent>;

export const TenantDeletedEvent = defineEvent('TenantDeleted', {
  tenantId: Uuid(),
  deletedBy: Uuid(),
  deletedAt: Timestamp(),
});
export type TenantDeleted = Static<typeof TenantDeletedEvent>;

export const TenantEventSchema = Type.Union([
  TenantCreatedEvent,
  TenantPlacedEvent,
  TenantRenamedEvent,
  TenantProvisionedEvent,
  TenantProvisioningFailedEvent,
  TenantDeletedEvent,
]);
export type TenantEvent = Static<typeof TenantEventSchema>;
