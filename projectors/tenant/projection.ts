import { Type } from 'typebox';
import { jsonbParameter, sql, rowSchema, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readCategory, type StoredEvent } from '../../core/eventing/event-store.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import { rerenderErasedContent } from './content-erasure.ts';
import { applyFromCheckpoint, checkpointOf, type Projection } from '../../core/eventing/projector.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { TenantPools } from '../../core/adapters/tenant-pools.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';
import type { DocumentUpdated } from '../../domain/document/index.ts';
import { tenantScopesLag } from '../../core/eventing/projection-lag.ts';

export const TENANT_CHECKPOINT = 'tenant';
const CHECKPOINT_TTL_MS = 60_000;
const CHECKPOINT_READS_PER_ROUND = 50;

const TenantRow = rowSchema(Type.Object({ database_name: Type.String(), server: Type.String(), status: Type.String() }));
const TenantPosition = rowSchema(Type.Object({ tenant_id: Type.String(), database_name: Type.String(), server: Type.String() }));

/**
 * files and documents in each tenant's own database, one checkpoint per tenant (kept in that
 * database, in the same transaction as the rows). A tenant whose database is not provisioned
 * yet is paused without holding back the other tenants of its partition; the platform topic's
 * TenantProvisioned (and the projector's sweep) wakes it up to catch up from its checkpoint.
 */
export function tenantProjection(options: { pool: DatabasePool; tenantPools: TenantPools; topics: Topics }): Projection {
  const { pool, tenantPools } = options;
  // Each tenant's checkpoint as last read. The lag metrics ask every 5 s; opening every tenant
  // database that often churned the pools (hundreds of connections every round, measured with
  // 1,000 tenants: provisioning slowed as tenants grew). A checkpoint is read again once this
  // process has caught the tenant up, or after CHECKPOINT_TTL_MS (another instance, or a move,
  // may have advanced it), at most CHECKPOINT_READS_PER_ROUND databases per call.
  const checkpoints = new Map<string, { position: number; readAt: number }>();
  return {
    name: 'tenant',
    topics: [options.topics.documents, options.topics.platform],
    scopeOf: (event) => {
      if (event.category === 'documents') return event.tenantId;
      return event.type === 'TenantProvisioned' ? event.tenantId : null;
    },
    scopesToSweep: async () => (await pool.anyFirst(sql.unsafe`select tenant_id from tenants where status = 'active'`)).map(String),
    // Each tenant's checkpoint lives in its own database (the first 500 tenants, for /status);
    // a tenant not read yet is left out until a later round reads it.
    async positions() {
      const tenants = await pool.any(sql.type(TenantPosition)`
        select tenant_id, database_name, server from tenants where status = 'active' order by created_at limit 500`);
      const now = Date.now();
      const due = tenants
        .filter((t) => now - (checkpoints.get(t.tenant_id)?.readAt ?? 0) > CHECKPOINT_TTL_MS)
        .sort((a, b) => (checkpoints.get(a.tenant_id)?.readAt ?? 0) - (checkpoints.get(b.tenant_id)?.readAt ?? 0))
        .slice(0, CHECKPOINT_READS_PER_ROUND);
      for (const t of due) {
        checkpoints.set(t.tenant_id, { position: await checkpointOf(await tenantPools.get(t.database_name, t.server), TENANT_CHECKPOINT), readAt: now });
      }
      return Object.fromEntries(
        tenants.flatMap((t) => {
          const known = checkpoints.get(t.tenant_id);
          return known ? [[t.tenant_id, known.position] as const] : [];
        }),
      );
    },
    async lag() {
      return tenantScopesLag(pool, (await this.positions?.()) ?? {}, sql.fragment`e.category = 'documents'`);
    },
    async catchUp(tenantId, upTo, heartbeat) {
      // The placement is read for every catch-up: after a move (TenantPlaced) the next batch goes
      // to the new database, which resumes from its own checkpoint.
      const tenant = await pool.maybeOne(sql.type(TenantRow)`select database_name, server, status from tenants where tenant_id = ${tenantId}`);
      if (!tenant || tenant.status === 'provisioning') return 'paused';
      if (tenant.status === 'deleted') return 'done';
      const db = await tenantPools.get(tenant.database_name, tenant.server);
      const applied = await applyFromCheckpoint({
        db,
        key: TENANT_CHECKPOINT,
        upTo,
        heartbeat,
        ...tenantEventSteps(pool, tenantId),
      }).finally(() => checkpoints.delete(tenantId));
      if (applied > 0) await tenantDataChanged(pool, tenantId);
      return 'done';
    },
  };
}

/** How the tenant's events are read (opened: sealed fields) and applied: the live projection's steps, also a move's catch-up. */
export function tenantEventSteps(pool: DatabasePool, tenantId: string) {
  return {
    load: async (after: number, to: number, limit: number) => openEvents(pool, await readCategory(pool, 'documents', { after, upTo: to, tenantId, limit })),
    // In position order; a run of DocumentUpdated between other events is one statement.
    applyBatch: async (tx: DatabaseTransactionConnection, events: StoredEvent[]) => {
      let updates: StoredEvent[] = [];
      for (const event of events) {
        if (event.type === 'DocumentUpdated') {
          updates.push(event);
          continue;
        }
        await applyDocumentUpdates(tx, updates);
        updates = [];
        if (event.type === 'TenantContentErased') await rerenderErasedContent(pool, tx, event);
        else await projectDocumentEvent(tx, event);
      }
      await applyDocumentUpdates(tx, updates);
    },
  };
}

/**
 * DocumentUpdated events in position order, as one statement: a document updated more than once
 * gets one row of its changes merged (a later field over an earlier one, each over what the row
 * had), at the last version. A row already at or past that version is left alone; one between
 * the first and the last gets the earlier changes again, which it already has.
 */
async function applyDocumentUpdates(tx: DatabaseTransactionConnection, updates: readonly StoredEvent[]): Promise<void> {
  if (updates.length === 0) return;
  type Merged = { document_id: string; title: string | null; description: string | null; tags: string[] | null; updated_at: string; version: number };
  const merged = new Map<string, Merged>();
  for (const stored of updates) {
    const d = stored.data as DocumentUpdated['data'];
    const before = merged.get(d.documentId);
    merged.set(d.documentId, {
      document_id: d.documentId,
      title: d.title ?? before?.title ?? null,
      description: d.description ?? before?.description ?? null,
      tags: d.tags ?? before?.tags ?? null,
      updated_at: d.updatedAt,
      version: stored.streamVersion,
    });
  }
  await tx.query(sql.unsafe`
    update documents d set
      title = coalesce(u.title, d.title),
      description = coalesce(u.description, d.description),
      tags = coalesce(u.tags, d.tags),
      updated_at = u.updated_at, version = u.version
    from jsonb_to_recordset(${jsonbParameter([...merged.values()])})
      as u(document_id uuid, title text, description text, tags text[], updated_at timestamptz, version integer)
    where d.document_id = u.document_id and d.version < u.version`);
}

/** Drops the query APIs' read caches of the tenant (query-api/documents/document-queries.ts): sent after the commit. */
export async function tenantDataChanged(pool: DatabasePool, tenantId: string): Promise<void> {
  await pool.query(sql.unsafe`select pg_notify('ledgerline_invalidate', ${`tenant-data:${tenantId}`})`);
}

export async function projectDocumentEvent(tx: DatabaseTransactionConnection, stored: StoredEvent): Promise<void> {
  const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
  const version = stored.streamVersion;
  switch (event.type) {
    case 'FileStored': {
      const { fileId, s3Key, md5, sha256, size, contentType, storedAt } = event.data;
      await tx.query(sql.unsafe`
        insert into files (file_id, s3_key, md5, sha256, size, content_type, status, stored_at, version)
        values (${fileId}, ${s3Key}, ${md5}, ${sha256}, ${size}, ${contentType}, 'stored', ${storedAt}, ${version})
        on conflict (file_id) do nothing`);
      return;
    }
    case 'DocumentAttached':
      await tx.query(
        sql.unsafe`update files set document_count = document_count + 1, version = ${version} where file_id = ${event.data.fileId} and version < ${version}`,
      );
      return;
    case 'DocumentDetached':
      await tx.query(
        sql.unsafe`update files set document_count = document_count - 1, version = ${version} where file_id = ${event.data.fileId} and version < ${version}`,
      );
      return;
    case 'FileDeletionScheduled':
      await tx.query(
        sql.unsafe`update files set status = 'deletion_scheduled', version = ${version} where file_id = ${event.data.fileId} and version < ${version}`,
      );
      return;
    case 'FileObjectDeleted':
      await tx.query(sql.unsafe`update files set status = 'deleted', version = ${version} where file_id = ${event.data.fileId} and version < ${version}`);
      return;
    case 'DocumentCreated': {
      const d = event.data;
      await tx.query(sql.unsafe`
        insert into documents (document_id, file_id, title, description, tags, filename, content_type, size, owner_id, created_at, updated_at, version)
        values (${d.documentId}, ${d.fileId}, ${d.title}, ${d.description}, ${sql.array(d.tags, 'text')}, ${d.filename}, ${d.contentType},
                ${d.size}, ${d.ownerId}, ${d.createdAt}, ${d.createdAt}, ${version})
        on conflict (document_id) do nothing`);
      return;
    }
    case 'DocumentUpdated': {
      const d = event.data;
      await tx.query(sql.unsafe`
        update documents set
          title = coalesce(${d.title ?? null}, title),
          description = coalesce(${d.description ?? null}, description),
          tags = coalesce(${d.tags === undefined ? null : sql.array(d.tags, 'text')}, tags),
          updated_at = ${d.updatedAt}, version = ${version}
        where document_id = ${d.documentId} and version < ${version}`);
      return;
    }
    case 'DocumentDeleted':
      await tx.query(sql.unsafe`delete from documents where document_id = ${event.data.documentId}`);
      return;
    default:
      return; // DownloadUrlIssued is for the audit trail only
  }
}
