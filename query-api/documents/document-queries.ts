import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { createInvalidatedCache, type Invalidations } from '../../core/eventing/invalidation.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const DocumentRowSchema = Type.Object({
  document_id: Type.String(),
  file_id: Type.String(),
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  filename: Type.String(),
  content_type: Type.String(),
  size: Type.Number(),
  owner_id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  version: Type.Number(),
  md5: Type.String(),
  sha256: Type.String(),
  s3_key: Type.String(),
});
export type DocumentRow = Static<typeof DocumentRowSchema>;
const DocumentRow = rowSchema(DocumentRowSchema);
const ListedDocumentRow = rowSchema(Type.Object({ ...DocumentRowSchema.properties, sort_key: Type.String() }));
const COLUMNS = sql.fragment`d.document_id, d.file_id, d.title, d.description, d.tags, d.filename, d.content_type, d.size, d.owner_id,
  to_json(d.created_at)#>>'{}' as created_at, to_json(d.updated_at)#>>'{}' as updated_at, d.version, f.md5, f.sha256, f.s3_key`;

/** A document as the API shows it. */
export const Document = Type.Object({
  id: Type.String(),
  fileId: Type.String(),
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  ownerId: Type.String(),
  md5: Type.String(),
  sha256: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  version: Type.Integer(),
});

export function documentView(row: DocumentRow): Static<typeof Document> {
  return {
    id: row.document_id,
    fileId: row.file_id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    filename: row.filename,
    contentType: row.content_type,
    size: row.size,
    ownerId: row.owner_id,
    md5: row.md5,
    sha256: row.sha256,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

export type DocumentListQuery = {
  limit: number;
  cursor?: string | undefined;
  title?: string | undefined;
  tag?: string | undefined;
  owner?: string | undefined;
  sort: 'created_at' | 'title';
  order: 'asc' | 'desc';
};

/** The documents read model of one tenant database (projectors/tenant writes it). */
export function createDocumentQueries(db: DatabasePool) {
  return {
    findDocument(documentId: string): Promise<DocumentRow | null> {
      return db.maybeOne(sql.type(DocumentRow)`select ${COLUMNS} from documents d join files f using (file_id) where d.document_id = ${documentId}`);
    },
    /** A page in keyset order: stable while documents are added or removed between pages. */
    async listDocuments(q: DocumentListQuery): Promise<{ items: DocumentRow[]; nextCursor: string | null }> {
      const key = q.sort === 'title' ? sql.fragment`lower(d.title)` : sql.fragment`d.created_at`;
      const keyText = q.sort === 'title' ? sql.fragment`lower(d.title)` : sql.fragment`to_json(d.created_at)#>>'{}'`;
      const desc = q.order === 'desc';
      const conditions = [sql.fragment`true`];
      if (q.title) conditions.push(sql.fragment`d.title ilike ${`%${q.title.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
      if (q.tag) conditions.push(sql.fragment`${q.tag} = any(d.tags)`);
      if (q.owner) conditions.push(sql.fragment`d.owner_id = ${q.owner}`);
      if (q.cursor) {
        const { value, id } = decodeCursor(q.cursor, q.sort === 'title' ? 'text' : 'timestamp');
        const typed = q.sort === 'title' ? sql.fragment`${value}` : sql.fragment`${value}::timestamptz`;
        conditions.push(
          desc ? sql.fragment`(${key}, d.document_id) < (${typed}, ${id}::uuid)` : sql.fragment`(${key}, d.document_id) > (${typed}, ${id}::uuid)`,
        );
      }
      const direction = desc ? sql.fragment`desc` : sql.fragment`asc`;
      const rows = await db.any(sql.type(ListedDocumentRow)`
        select ${COLUMNS}, ${keyText} as sort_key from documents d join files f using (file_id)
        where ${sql.join(conditions, sql.fragment` and `)}
        order by ${key} ${direction}, d.document_id ${direction} limit ${q.limit}`);
      const last = rows.at(-1);
      return { items: [...rows], nextCursor: rows.length === q.limit && last ? encodeCursor(last.sort_key, last.document_id) : null };
    },
  };
}

export type DocumentQueries = ReturnType<typeof createDocumentQueries>;
type Page = Awaited<ReturnType<DocumentQueries['listDocuments']>>;

/**
 * Pages and documents of the tenant read models, kept in memory: a page read costs the database
 * round trip, row parsing and validation that dominate the query API's profile, and most reads
 * repeat. An entry is dropped when the tenant projector notifies `tenant-data:<tenant>` after
 * committing that tenant's events (projectors/tenant/projection.ts), and lives `maxAgeMs` at
 * most, which bounds staleness should that notification be lost with a crashing projector. A
 * request with X-Min-Position reads the database (after waiting for the checkpoint) instead.
 */
export function createDocumentReadCache(invalidations: Invalidations, options: { maxEntries: number; maxAgeMs: number }) {
  const subjectsOf = (key: string) => [`tenant-data:${key.slice(0, key.indexOf('|'))}`];
  const documents = createInvalidatedCache<DocumentRow | null>(invalidations, subjectsOf, options);
  const pages = createInvalidatedCache<Page>(invalidations, subjectsOf, options);
  return {
    /** The queries of one tenant's database, read through the cache unless `fresh`. */
    forTenant(tenantId: string, db: DatabasePool, fresh: boolean): DocumentQueries {
      const queries = createDocumentQueries(db);
      if (fresh) return queries;
      return {
        findDocument: (documentId) => documents.get(`${tenantId}|${documentId}`, () => queries.findDocument(documentId)),
        listDocuments: (q) =>
          pages.get(`${tenantId}|${JSON.stringify([q.limit, q.sort, q.order, q.cursor, q.title, q.tag, q.owner])}`, () => queries.listDocuments(q)),
      };
    },
  };
}

export type DocumentReadCache = ReturnType<typeof createDocumentReadCache>;
