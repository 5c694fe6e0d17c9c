import { sql, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readAllEvents, readCategory, type StoredEvent } from '../../core/eventing/event-store.ts';
import { BACKGROUND_GATHER_MS, singleScopeProjection, type Projection } from '../../core/eventing/projector.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import { auditChainOf, projectAuditEvent, projectAuditEvents } from './audit-trail.ts';
import { ERASED } from '../../domain/shared/personal-data.ts';

export { projectAuditEvent };

export const MAIN_SCOPE = 'main';

/** users, tenants, memberships and invitations in the main database, from the platform topic. */
export function mainProjection(pool: DatabasePool, topics: Topics): Projection {
  return singleScopeProjection({
    name: MAIN_SCOPE,
    pool,
    topics: [topics.platform],
    lagOf: sql.fragment`category = 'platform'`,
    load: async (after, upTo, limit, tx) => openEvents(tx, await readCategory(tx, 'platform', { after, upTo, limit })),
    apply: projectPlatformEvent,
  });
}

export async function projectPlatformEvent(tx: DatabaseTransactionConnection, stored: StoredEvent): Promise<void> {
  const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
  const version = stored.streamVersion;
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, displayName, registeredAt } = event.data;
      await tx.query(sql.unsafe`
        insert into users (user_id, email, display_name, registered_at, version)
        values (${userId}, ${email}, ${displayName}, ${registeredAt}, ${version})
        on conflict (user_id) do nothing`);
      return;
    }
    case 'UserProfileUpdated':
      await tx.query(sql.unsafe`
        update users set display_name = ${event.data.displayName}, version = ${version}
        where user_id = ${event.data.userId} and version < ${version}`);
      return;
    case 'TenantCreated': {
      const { tenantId, name, slug, databaseName, createdBy, createdAt } = event.data;
      await tx.query(sql.unsafe`
        insert into tenants (tenant_id, name, slug, database_name, status, created_by, created_at, version)
        values (${tenantId}, ${name}, ${slug}, ${databaseName}, 'provisioning', ${createdBy}, ${createdAt}, ${version})
        on conflict (tenant_id) do nothing`);
      return;
    }
    case 'TenantPlaced':
      await tx.query(sql.unsafe`
        update tenants set server = ${event.data.server}, database_name = ${event.data.database}, version = ${version}
        where tenant_id = ${event.data.tenantId} and version < ${version}`);
      return;
    case 'TenantRenamed':
      await tx.query(sql.unsafe`
        update tenants set name = ${event.data.name}, version = ${version} where tenant_id = ${event.data.tenantId} and version < ${version}`);
      return;
    case 'TenantProvisioned':
      await tx.query(sql.unsafe`
        update tenants set status = 'active', provisioned_at = ${event.data.provisionedAt}, last_failure = null, version = ${version}
        where tenant_id = ${event.data.tenantId} and version < ${version} and status = 'provisioning'`);
      return;
    case 'TenantProvisioningFailed':
      await tx.query(sql.unsafe`
        update tenants set last_failure = ${event.data.reason}, version = ${version}
        where tenant_id = ${event.data.tenantId} and version < ${version}`);
      return;
    case 'TenantDeleted':
      // The tenant's keys went with it: its name and its invitations read as erased, here as in a rebuild.
      await tx.query(sql.unsafe`
        update tenants set status = 'deleted', deleted_at = ${event.data.deletedAt}, name = ${ERASED}, version = ${version}
        where tenant_id = ${event.data.tenantId} and version < ${version}`);
      await tx.query(sql.unsafe`update invitations set email = ${ERASED} where tenant_id = ${event.data.tenantId}`);
      return;
    case 'SubjectErased': {
      const { userId, tenantId } = event.data;
      const inTenant = tenantId === null ? sql.fragment`true` : sql.fragment`tenant_id = ${tenantId}`;
      await tx.query(sql.unsafe`
        update invitations set email = ${ERASED} where ${inTenant} and email = (select email from users where user_id = ${userId})`);
      if (tenantId === null) await tx.query(sql.unsafe`update users set email = ${ERASED}, display_name = ${ERASED} where user_id = ${userId}`);
      return;
    }
    case 'MemberAdded':
      await tx.query(sql.unsafe`
        insert into memberships (tenant_id, user_id, role, added_at)
        values (${event.data.tenantId}, ${event.data.userId}, ${event.data.role}, ${stored.occurredAt})
        on conflict (tenant_id, user_id) do update set role = excluded.role`);
      return;
    case 'MemberRoleChanged':
      await tx.query(sql.unsafe`
        update memberships set role = ${event.data.role} where tenant_id = ${event.data.tenantId} and user_id = ${event.data.userId}`);
      return;
    case 'MemberRemoved':
      await tx.query(sql.unsafe`delete from memberships where tenant_id = ${event.data.tenantId} and user_id = ${event.data.userId}`);
      return;
    case 'MemberInvited': {
      const { invitationId, tenantId, email, role, invitedBy, invitedAt } = event.data;
      await tx.query(sql.unsafe`
        insert into invitations (invitation_id, tenant_id, email, role, invited_by, invited_at, status)
        values (${invitationId}, ${tenantId}, ${email}, ${role}, ${invitedBy}, ${invitedAt}, 'pending')
        on conflict (invitation_id) do nothing`);
      return;
    }
    case 'InvitationAccepted':
      await tx.query(sql.unsafe`
        update invitations set status = 'accepted', answered_at = ${event.data.acceptedAt} where invitation_id = ${event.data.invitationId}`);
      return;
    case 'InvitationDeclined':
      await tx.query(sql.unsafe`
        update invitations set status = 'declined', answered_at = ${event.data.declinedAt} where invitation_id = ${event.data.invitationId}`);
      return;
    default:
      // Platform events with no read model here (email and slug claims, password changes).
      return;
  }
}

/**
 * The audit trail (GET /api/tenants/{id}/audit, GET /api/users/me/audit): tenant events and
 * events about one user (authentication, password, profile), from both topics, each chain
 * hash-linked (audit-trail.ts).
 */
export function auditProjection(pool: DatabasePool, topics: Topics): Projection {
  return singleScopeProjection({
    name: 'audit',
    pool,
    topics: [topics.platform, topics.documents],
    accepts: (event) => auditChainOf(event) !== null,
    gatherMs: BACKGROUND_GATHER_MS,
    lagOf: sql.fragment`true`,
    load: (after, upTo, limit, tx) => readAllEvents(tx, { after, upTo, limit }),
    applyBatch: projectAuditEvents,
  });
}
