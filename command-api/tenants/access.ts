import { streamRef, type EventStreams, type Loaded, type StreamRef } from '../../core/eventing/command-handler.ts';
import { loadStreams } from '../../core/eventing/command-handler.ts';
import { httpError } from '../../core/adapters/http.ts';
import { tenantDecider, tenantStreamId, type TenantState } from '../../domain/tenant/index.ts';
import { membershipDecider, membershipStreamId, roleOf, type MembershipState } from '../../domain/membership/index.ts';
import type { Role } from '../../domain/shared/roles.ts';

export type TenantAccess = {
  tenant: Exclude<TenantState, { status: 'initial' } | { status: 'deleted' }>;
  tenantVersion: number;
  members: MembershipState;
  role: Role;
};

/** The two streams an actor's standing in a tenant is decided from. */
export function tenantReads(tenantId: string): StreamRef<unknown>[] {
  return [streamRef(tenantDecider, tenantStreamId(tenantId)), streamRef(membershipDecider, membershipStreamId(tenantId))] as StreamRef<unknown>[];
}

/**
 * The actor's standing in a tenant, from the write side's own streams (never a lagging read
 * model). Outsiders, and everybody once the tenant is deleted, get the same 404 as for a tenant
 * that never existed, so no tenant's existence leaks.
 */
export function accessFrom(loaded: ReadonlyMap<string, Loaded<unknown>>, tenantId: string, actorId: string): TenantAccess {
  const tenant = loaded.get(tenantStreamId(tenantId)) as Loaded<TenantState>;
  const members = loaded.get(membershipStreamId(tenantId)) as Loaded<MembershipState>;
  const role = roleOf(members.state, actorId);
  if (tenant.state.status === 'initial' || tenant.state.status === 'deleted' || role === null) {
    throw httpError(404, 'TENANT_NOT_FOUND', 'no such tenant');
  }
  return { tenant: tenant.state, tenantVersion: tenant.version, members: members.state, role };
}

export async function tenantAccess(store: EventStreams, tenantId: string, actorId: string): Promise<TenantAccess> {
  return accessFrom(await loadStreams(store, tenantReads(tenantId)), tenantId, actorId);
}

export function requireRole(access: TenantAccess, allowed: Role[]): void {
  if (!allowed.includes(access.role)) throw httpError(403, 'FORBIDDEN', `this needs the role ${allowed.join(' or ')}`);
}
