import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { canManageTenant, type Role } from '../shared/roles.ts';
import { requirePositiveInteger, requireTrimmedText } from '../shared/validation.ts';
import type { CreateTenant, DeleteTenant, MarkTenantProvisioned, MarkTenantProvisioningFailed, PlaceTenant, RenameTenant, TenantCommand } from './commands.ts';
import { tenantDatabaseName } from './database-name.ts';
import type { TenantEvent } from './events.ts';
import type { TenantState } from './evolve.ts';
import { requireValidSlug } from './slug.ts';

type LiveTenant = Extract<TenantState, { status: 'provisioning' | 'active' }>;

const TENANT_NAME = { code: 'INVALID_TENANT_NAME', label: 'name', min: 1, max: 200 };
const MAX_FAILURE_REASON_LENGTH = 1000;

export function decideTenant(command: TenantCommand, state: TenantState): TenantEvent[] {
  switch (command.type) {
    case 'CreateTenant':
      return createTenant(command, state);
    case 'RenameTenant':
      return renameTenant(command, requireLive(state));
    case 'DeleteTenant':
      return deleteTenant(command, requireLive(state));
    case 'MarkTenantProvisioned':
      return markProvisioned(command, requireLive(state));
    case 'MarkTenantProvisioningFailed':
      return markProvisioningFailed(command, requireLive(state));
    case 'PlaceTenant':
      return placeTenant(command, requireLive(state));
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function createTenant({ data }: CreateTenant, state: TenantState): TenantEvent[] {
  if (state.status !== 'initial') throw new ConflictError('TENANT_EXISTS', 'this tenant already exists');
  if (data.tenantsOfActor >= data.tenantQuota) {
    throw new ForbiddenError('TENANT_QUOTA_EXCEEDED', `a user can create at most ${data.tenantQuota} tenants; delete one first`);
  }
  const slug = requireValidSlug(data.slug);
  const name = requireTrimmedText(data.name, TENANT_NAME);
  if (data.databaseName !== tenantDatabaseName(slug, data.tenantId)) {
    throw new ValidationError('INVALID_DATABASE_NAME', 'databaseName must be tenantDatabaseName(slug, tenantId)');
  }
  const server = chooseServer(data.tenantsPerServer, data.server);
  return [
    {
      type: 'TenantCreated',
      data: { tenantId: data.tenantId, name, slug, databaseName: data.databaseName, createdBy: data.actorId, createdAt: data.now },
    },
    { type: 'TenantPlaced', data: { tenantId: data.tenantId, server, database: data.databaseName } },
  ];
}

/** The named server if it is configured, else the one with the fewest tenants (ties: by name, so the choice is stable). */
function chooseServer(tenantsPerServer: Record<string, number>, requested: string | undefined): string {
  if (requested !== undefined) {
    if (!Object.hasOwn(tenantsPerServer, requested)) throw new ValidationError('UNKNOWN_SERVER', `no tenant server named ${JSON.stringify(requested)}`);
    return requested;
  }
  const [fewest] = Object.entries(tenantsPerServer).sort(([a, m], [b, n]) => m - n || (a < b ? -1 : a > b ? 1 : 0));
  if (!fewest) throw new ValidationError('NO_TENANT_SERVERS', 'no tenant server is configured');
  return fewest[0];
}

/** Only a provisioned tenant moves (its database exists to be copied); the same place again changes nothing. */
function placeTenant({ data }: PlaceTenant, tenant: LiveTenant): TenantEvent[] {
  if (tenant.status !== 'active') throw new ConflictError('TENANT_NOT_READY', 'a tenant is moved only once it is provisioned');
  if (!data.servers.includes(data.server)) throw new ValidationError('UNKNOWN_SERVER', `no tenant server named ${JSON.stringify(data.server)}`);
  if (data.database !== tenant.databaseName) {
    throw new ConflictError('DATABASE_NAME_MISMATCH', `this tenant's database is ${tenant.databaseName}`);
  }
  if (data.server === tenant.server) return [];
  return [{ type: 'TenantPlaced', data: { tenantId: tenant.tenantId, server: data.server, database: data.database } }];
}

function renameTenant({ data }: RenameTenant, tenant: LiveTenant): TenantEvent[] {
  requireAdmin(data.actorRole);
  const name = requireTrimmedText(data.name, TENANT_NAME);
  if (name === tenant.name) return [];
  return [{ type: 'TenantRenamed', data: { tenantId: tenant.tenantId, name } }];
}

function deleteTenant({ data }: DeleteTenant, tenant: LiveTenant): TenantEvent[] {
  requireAdmin(data.actorRole);
  return [{ type: 'TenantDeleted', data: { tenantId: tenant.tenantId, deletedBy: data.actorId, deletedAt: data.now } }];
}

/** The provisioner may run twice (at-least-once delivery): a second success changes nothing. */
function markProvisioned({ data }: MarkTenantProvisioned, tenant: LiveTenant): TenantEvent[] {
  if (tenant.status === 'active') return [];
  if (data.databaseName !== tenant.databaseName) {
    throw new ConflictError('DATABASE_NAME_MISMATCH', `this tenant's database is ${tenant.databaseName}`);
  }
  return [{ type: 'TenantProvisioned', data: { tenantId: tenant.tenantId, databaseName: tenant.databaseName, provisionedAt: data.now } }];
}

/** A late failure report from an older attempt must not undo a success. */
function markProvisioningFailed({ data }: MarkTenantProvisioningFailed, tenant: LiveTenant): TenantEvent[] {
  if (tenant.status === 'active') return [];
  const attempt = requirePositiveInteger(data.attempt, 'INVALID_ATTEMPT', 'attempt');
  // Truncated rather than refused: losing the tail of an error message beats losing the failure.
  const reason = [...data.reason.trim()].slice(0, MAX_FAILURE_REASON_LENGTH).join('');
  if (reason === '') throw new ValidationError('INVALID_REASON', 'reason must not be empty');
  return [{ type: 'TenantProvisioningFailed', data: { tenantId: tenant.tenantId, reason, attempt, failedAt: data.now } }];
}

function requireLive(state: TenantState): LiveTenant {
  switch (state.status) {
    case 'initial':
      throw new NotFoundError('TENANT_NOT_FOUND', 'tenant not found');
    case 'deleted':
      throw new ConflictError('TENANT_DELETED', 'this tenant has been deleted');
    case 'provisioning':
    case 'active':
      return state;
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

function requireAdmin(role: Role): void {
  if (!canManageTenant(role)) throw new ForbiddenError('FORBIDDEN', 'only a tenant admin can do this');
}
