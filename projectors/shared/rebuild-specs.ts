import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../platform/db.ts';
import { readCategory } from '../../platform/event-store.ts';
import type { Topics } from '../../platform/kafka.ts';
import type { RebuildSpec } from '../../platform/rebuild.ts';
import { projectPlatformEvent, MAIN_SCOPE } from '../main/projection.ts';
import { projectDocumentEvent, TENANT_CHECKPOINT } from '../tenant/projection.ts';

/** One tenant's files and documents, in its own database, from the documents topic. */
export function tenantRebuild(pool: DatabasePool, topics: Topics, tenantId: string): RebuildSpec {
  return {
    tables: ['files', 'documents'], checkpointKey: TENANT_CHECKPOINT, topic: topics.documents,
    belongs: (event) => event.tenantId === tenantId,
    apply: projectDocumentEvent,
    loadAfter: (after, upTo) => readCategory(pool, 'documents', { after, upTo, tenantId, limit: 1_000_000 }),
  };
}

/** users, tenants and memberships in the main database, from the platform topic. */
export function mainRebuild(pool: DatabasePool, topics: Topics): RebuildSpec {
  return {
    tables: ['users', 'tenants', 'memberships', 'invitations'], checkpointKey: MAIN_SCOPE, topic: topics.platform,
    belongs: () => true,
    apply: projectPlatformEvent,
    loadAfter: (after, upTo) => readCategory(pool, 'platform', { after, upTo, limit: 1_000_000 }),
  };
}

const TenantRow = rowSchema(Type.Object({ tenant_id: Type.String(), database_name: Type.String() }));

export async function resolveTenant(pool: DatabasePool, idOrSlug: string): Promise<{ tenantId: string; databaseName: string } | null> {
  const row = await pool.maybeOne(sql.type(TenantRow)`
    select tenant_id, database_name from tenants where status = 'active' and (tenant_id::text = ${idOrSlug} or slug = ${idOrSlug})`);
  return row ? { tenantId: row.tenant_id, databaseName: row.database_name } : null;
}
