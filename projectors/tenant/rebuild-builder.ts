import { sql, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import type { StoredEvent } from '../../core/eventing/event-store.ts';
import type { ReadModelBuilder } from '../../core/eventing/rebuild.ts';
import type { AnyDomainEvent } from '../../domain/events.ts';

type FileRow = {
  file_id: string;
  s3_key: string;
  md5: string;
  sha256: string;
  size: number;
  content_type: string;
  status: string;
  document_count: number;
  stored_at: string;
  version: number;
};
export type DocumentRow = {
  document_id: string;
  file_id: string;
  title: string;
  description: string | null;
  tags: string[];
  filename: string;
  content_type: string;
  size: number;
  owner_id: string;
  created_at: string;
  updated_at: string;
  version: number;
};

const CHUNK = 5000;

/**
 * The tenant projection's rebuild: the same rules as `projectDocumentEvent` (one case per event
 * type, the same version guards), folded in memory and written as a few multi-row inserts, so a
 * tenant of 100,000 events costs a handful of round trips instead of 100,000. The dry run's row
 * checksums (and test/rebuild*.test.ts) hold the two to the same result.
 */
export function tenantReadModelBuilder(options: { openDocuments?: (rows: DocumentRow[]) => Promise<void> } = {}): ReadModelBuilder {
  const files = new Map<string, FileRow>();
  const documents = new Map<string, DocumentRow>();
  const bumpFile = (fileId: string, version: number, change: (file: FileRow) => void) => {
    const file = files.get(fileId);
    if (file && file.version < version) {
      change(file);
      file.version = version;
    }
  };
  return {
    add(stored: StoredEvent) {
      const event = { type: stored.type, data: stored.data } as AnyDomainEvent;
      const version = stored.streamVersion;
      switch (event.type) {
        case 'FileStored': {
          const d = event.data;
          if (!files.has(d.fileId)) {
            files.set(d.fileId, {
              file_id: d.fileId,
              s3_key: d.s3Key,
              md5: d.md5,
              sha256: d.sha256,
              size: d.size,
              content_type: d.contentType,
              status: 'stored',
              document_count: 0,
              stored_at: d.storedAt,
              version,
            });
          }
          return;
        }
        case 'DocumentAttached':
          return bumpFile(event.data.fileId, version, (f) => {
            f.document_count += 1;
          });
        case 'DocumentDetached':
          return bumpFile(event.data.fileId, version, (f) => {
            f.document_count -= 1;
          });
        case 'FileDeletionScheduled':
          return bumpFile(event.data.fileId, version, (f) => {
            f.status = 'deletion_scheduled';
          });
        case 'FileObjectDeleted':
          return bumpFile(event.data.fileId, version, (f) => {
            f.status = 'deleted';
          });
        case 'DocumentCreated': {
          const d = event.data;
          if (!documents.has(d.documentId)) {
            documents.set(d.documentId, {
              document_id: d.documentId,
              file_id: d.fileId,
              title: d.title,
              description: d.description ?? null,
              tags: d.tags,
              filename: d.filename,
              content_type: d.contentType,
              size: d.size,
              owner_id: d.ownerId,
              created_at: d.createdAt,
              updated_at: d.createdAt,
              version,
            });
          }
          return;
        }
        case 'DocumentUpdated': {
          const d = event.data;
          const doc = documents.get(d.documentId);
          if (!doc || doc.version >= version) return;
          if (d.title != null) doc.title = d.title;
          if (d.description != null) doc.description = d.description;
          if (d.tags !== undefined) doc.tags = d.tags;
          doc.updated_at = d.updatedAt;
          doc.version = version;
          return;
        }
        case 'DocumentDeleted':
          documents.delete(event.data.documentId);
          return;
        default:
          return; // DownloadUrlIssued is for the audit trail only
      }
    },
    async flush(tx: DatabaseTransactionConnection) {
      // Opening the documents' sealed fields (CPU here) and inserting them (CPU in PostgreSQL)
      // overlap: each chunk is inserted while the next one is opened.
      // A failed insert is awaited (and thrown) below; marked handled meanwhile so that it is
      // never reported as an unhandled rejection while the next chunk is being opened.
      const started = (insert: Promise<void>) => {
        insert.catch(() => {});
        return insert;
      };
      let inserting = started(insertRows(tx, 'files', [...files.values()]));
      const rows = [...documents.values()];
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        await options.openDocuments?.(chunk);
        await inserting;
        inserting = started(insertRows(tx, 'documents', chunk));
      }
      await inserting;
      files.clear();
      documents.clear();
    },
  };
}

/** Multi-row insert through json_populate_recordset: the table's own row type converts each column. */
async function insertRows(tx: DatabaseTransactionConnection, table: 'files' | 'documents', rows: (FileRow | DocumentRow)[]): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = sql.join(
    Object.keys(first).map((c) => sql.identifier([c])),
    sql.fragment`, `,
  );
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = JSON.stringify(rows.slice(i, i + CHUNK));
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([table])} (${columns})
      select ${columns} from json_populate_recordset(null::${sql.identifier([table])}, ${chunk}::json)`);
  }
}
