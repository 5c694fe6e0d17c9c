import { sql, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readStream, type StoredEvent } from '../../core/eventing/event-store.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import type { DocumentCreated, DocumentUpdated } from '../../domain/document/index.ts';
import type { TenantContentErased } from '../../domain/erasure/index.ts';

type Content = { title: string; description: string; tags: string[]; filename: string };

/**
 * TenantContentErased: the author's keys in this tenant are gone, so each document they created
 * or edited is folded again from its events (opened now, their text erased) and written back:
 * the same row a rebuild would give. Read through the main pool, keys uncached.
 */
export async function rerenderErasedContent(pool: DatabasePool, tx: DatabaseTransactionConnection, event: StoredEvent): Promise<void> {
  const { tenantId, userId } = event.data as TenantContentErased['data'];
  const streams = await pool.anyFirst(sql.unsafe`
    select distinct stream_id from events
    where tenant_id = ${tenantId} and type in ('DocumentCreated', 'DocumentUpdated') and global_position < ${event.globalPosition}
      and (actor = ${userId} or data->>'ownerId' = ${userId})`);
  for (const streamId of streams.map(String)) {
    const history = await openEvents(pool, await readStream(pool, streamId), { cached: false });
    let content: Content | null = null;
    let documentId: string | null = null;
    for (const e of history) {
      if (e.type === 'DocumentCreated') {
        const d = e.data as DocumentCreated['data'];
        documentId = d.documentId;
        content = { title: d.title, description: d.description, tags: d.tags, filename: d.filename };
      } else if (e.type === 'DocumentUpdated' && content !== null) {
        const d = e.data as DocumentUpdated['data'];
        const before: Content = content;
        content = {
          ...before,
          ...(d.title === undefined ? {} : { title: d.title }),
          ...(d.description === undefined ? {} : { description: d.description }),
          ...(d.tags === undefined ? {} : { tags: d.tags }),
        };
      }
    }
    if (!content || !documentId) continue;
    await tx.query(sql.unsafe`
      update documents set title = ${content.title}, description = ${content.description}, tags = ${sql.array(content.tags, 'text')}, filename = ${content.filename}
      where document_id = ${documentId}`);
  }
}
