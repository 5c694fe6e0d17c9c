import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';

/**
 * tenantsPerServer: every configured tenant server with its live tenants (looked up by the
 * caller); the tenant is placed on `server` when the request names one, else on the server with
 * the fewest.
 * databaseName is computed by the caller with tenantDatabaseName(slug, tenantId); decide checks it.
 * tenantsOfActor (the live tenants the actor created, looked up by the caller) and tenantQuota
 * (configuration) let decide enforce the per-user quota: each tenant is a database.
 */
export const CreateTenantCommand = defineCommand('CreateTenant', {
  tenantId: Uuid(),
  name: Type.String(),
  slug: Type.String(),
  databaseName: Type.String(),
  actorId: Uuid(),
  now: Timestamp(),
  tenantsOfActor: Type.Integer({ minimum: 0 }),
  tenantQuota: Type.Integer({ minimum: 1 }),
  tenantsPerServer: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  server: Type.Optional(Type.String()),
});
export type CreateTenant = Static<typeof CreateTenantCommand>;

/** actorRole: the actor's role in this tenant, read from the membership stream (roleOf). */
export const RenameTenantCommand = defineCommand('RenameTenant', {
  name: Type.String(),
  actorRole: RoleSchema,
});
export type RenameTenant = Static<typeof RenameTenantCommand>;

export const DeleteTenantCommand = defineCommand('DeleteTenant', {
  actorId: Uuid(),
  actorRole: RoleSchema,
  now: Timestamp(),
});
export type DeleteTenant = Static<typeof DeleteTenantCommand>;

export const MarkTenantProvisionedCommand = defineCommand('MarkTenantProvisioned', {
  databaseName: Type.String(),
  now: Timestamp(),
});
export type MarkTenantProvisioned = Static<typeof MarkTenantProvisionedCommand>;

export const MarkTenantProvisioningFailedCommand = defineCommand('MarkTenantProvisioningFailed', {
  reason: Type.String(),
  attempt: Type.Integer({ minimum: 1 }),
  now: Timestamp(),
});
export type MarkTenantProvisioningFailed = Static<typeof MarkTenantProvisioningFailedCommand>;

/** An operator's move: the new database has caught up; servers are the configured ones. */
export const PlaceTenantCommand = defineCommand('PlaceTenant', {
  server: Type.String(),
  database: Type.String(),
  servers: Type.Array(Type.String()),
});
export type PlaceTenant = Static<typeof PlaceTenantCommand>;

export const TenantCommandSchema = Type.Union([
  CreateTenantCommand,
  RenameTenantCommand,
  DeleteTenantCommand,
  MarkTenantProvisionedCommand,
  MarkTenantProvisioningFailedCommand,
  PlaceTenantCommand,
]);
export type TenantCommand = Static<typeof TenantCommandSchema>;
