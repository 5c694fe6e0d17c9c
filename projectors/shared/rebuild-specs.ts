import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { readAllEvents, readCategory } from '../../core/eventing/event-store.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import { batchingBuilder, bufferingBuilder, type ReadModelBuilder, type RebuildSpec } from '../../core/eventing/rebuild.ts';
import type { StoredEvent } from '../../core/eventing/event-store.ts';
import { projectPlatformEvent, MAIN_SCOPE } from '../main/projection.ts';
import { auditChainOf, projectAuditEvent, projectAuditEvents } from '../main/audit-trail.ts';
import { projectDocumentEvent, tenantDataChanged, TENANT_CHECKPOINT } from '../tenant/projection.ts';
import { tenantReadModelBuilder, type DocumentRow } from '../tenant/rebuild-builder.ts';

/** Opens the personal fields of rebuilt document rows, as DocumentCreated's fields (the same fields, the same erased values). */
async function openDocumentRows(pool: DatabasePool, rows: DocumentRow[]): Promise<void> {
  const opened = await openEvents(
    pool,
    rows.map((row) => ({ type: 'DocumentCreated', data: { title: row.title, description: row.description, tags: row.tags, filename: row.filename } })),
    { cached: false },
  );
  rows.forEach((row, i) => {
    const data = opened[i]!.data as Pick<DocumentRow, 'title' | 'description' | 'tags' | 'filename'>;
    Object.assign(row, { title: data.title, description: data.description ?? null, tags: data.tags, filename: data.filename });
  });
}

/**
 * Kafka carries personal fields sealed: a rebuild opens them (keys from the main database, read
 * when the events are written, so whatever was erased by then is erased in the rebuilt model).
 */
function openingBuilder(pool: DatabasePool, inner: ReadModelBuilder): ReadModelBuilder {
  const events: StoredEvent[] = [];
  return {
    add: (event) => {
      events.push(event);
    },
    async flush(tx) {
      for (const event of await openEvents(pool, events, { cached: false })) inner.add(event);
      events.length = 0;
      await inner.flush(tx);
    },
  };
}

/**
 * One tenant's files and documents, in its own database, from the documents topic. Messages are
 * keyed by tenant id (core/eventing/event-store.ts messageKey), so only that key's partition is read.
 */
export function tenantRebuild(pool: DatabasePool, topics: Topics, tenantId: string): RebuildSpec {
  return {
    name: tenantId,
    tables: ['files', 'documents'],
    checkpointKey: TENANT_CHECKPOINT,
    topics: [topics.documents],
    key: tenantId,
    belongs: (event) => event.tenantId === tenantId,
    // The fields stay sealed while the events fold; only the final rows are opened (a document
    // updated 50 times is decrypted once, not 50 times: the cost of sealing in a rebuild).
    createBuilder: () => tenantReadModelBuilder({ openDocuments: (rows) => openDocumentRows(pool, rows) }),
    apply: projectDocumentEvent,
    loadAfter: async (after, upTo) => openEvents(pool, await readCategory(pool, 'documents', { after, upTo, tenantId, limit: 10_000_000 })),
    afterSwap: () => tenantDataChanged(pool, tenantId),
  };
}

/** users, tenants and memberships in the main database, from the platform topic. */
export function mainRebuild(pool: DatabasePool, topics: Topics): RebuildSpec {
  return {
    name: 'main',
    tables: ['users', 'tenants', 'memberships', 'invitations'],
    checkpointKey: MAIN_SCOPE,
    topics: [topics.platform],
    belongs: () => true,
    createBuilder: () => openingBuilder(pool, bufferingBuilder(projectPlatformEvent)),
    apply: projectPlatformEvent,
    loadAfter: async (after, upTo) => openEvents(pool, await readCategory(pool, 'platform', { after, upTo, limit: 10_000_000 })),
  };
}

/** The audit trail (main database): every event of a hash chain (tenant, user, anonymous), through the live projection's handler. */
export function auditRebuild(pool: DatabasePool, topics: Topics): RebuildSpec {
  return {
    name: 'audit',
    tables: ['audit_log'],
    checkpointKey: 'audit',
    topics: [topics.platform, topics.documents],
    belongs: (event) => auditChainOf(event) !== null,
    createBuilder: () => batchingBuilder(projectAuditEvents),
    apply: projectAuditEvent,
    loadAfter: (after, upTo) => readAllEvents(pool, { after, upTo, limit: 10_000_000 }),
  };
}

const TenantRow = rowSchema(Type.Object({ tenant_id: Type.String(), database_name: Type.String(), server: Type.String(), slug: Type.String() }));
/** An active tenant and where its database is (the placement). */
export type PlacedTenant = { tenantId: string; databaseName: string; server: string; slug: string };

const placedTenant = (row: { tenant_id: string; database_name: string; server: string; slug: string }): PlacedTenant => ({
  tenantId: row.tenant_id,
  databaseName: row.database_name,
  server: row.server,
  slug: row.slug,
});

export async function resolveTenant(pool: DatabasePool, idOrSlug: string): Promise<PlacedTenant | null> {
  const row = await pool.maybeOne(sql.type(TenantRow)`
    select tenant_id, database_name, server, slug from tenants where status = 'active' and (tenant_id::text = ${idOrSlug} or slug = ${idOrSlug})`);
  return row ? placedTenant(row) : null;
}

export async function activeTenants(pool: DatabasePool): Promise<PlacedTenant[]> {
  const rows = await pool.any(sql.type(TenantRow)`select tenant_id, database_name, server, slug from tenants where status = 'active' order by created_at`);
  return rows.map(placedTenant);
}
