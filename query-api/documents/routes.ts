import { Type, type Static } from 'typebox';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { sql, rowSchema, type DatabasePool } from '../../platform/db.ts';
import { ErrorResponse, httpError, type App } from '../../platform/http.ts';
import { decision, executeCommand, streamRef, type CommandStore, type StreamRef } from '../../platform/command-handler.ts';
import type { S3Clients } from '../../platform/s3.ts';
import type { TenantPools } from '../../platform/tenant-pools.ts';
import { documentDecider, documentStreamId, downloadTrailStreamId, downloadTrailDecider, type DocumentState } from '../../domain/document/index.ts';
import type { Freshness } from '../freshness.ts';
import type { MembershipQueries } from '../tenants/access.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 416: ErrorResponse, 504: ErrorResponse };
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
const DocumentParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), documentId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

const DocumentRowSchema = Type.Object({
  document_id: Type.String(), file_id: Type.String(), title: Type.String(), description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()), filename: Type.String(), content_type: Type.String(), size: Type.Number(), owner_id: Type.String(),
  created_at: Type.String(), updated_at: Type.String(), version: Type.Number(), md5: Type.String(), sha256: Type.String(), s3_key: Type.String(),
});
type DocumentRow = Static<typeof DocumentRowSchema>;
const DocumentRow = rowSchema(DocumentRowSchema);
const ListedDocumentRow = rowSchema(Type.Object({ ...DocumentRowSchema.properties, sort_key: Type.String() }));
const COLUMNS = sql.fragment`d.document_id, d.file_id, d.title, d.description, d.tags, d.filename, d.content_type, d.size, d.owner_id,
  to_json(d.created_at)#>>'{}' as created_at, to_json(d.updated_at)#>>'{}' as updated_at, d.version, f.md5, f.sha256, f.s3_key`;

const Document = Type.Object({
  id: Type.String(), fileId: Type.String(), title: Type.String(), description: Type.Union([Type.String(), Type.Null()]), tags: Type.Array(Type.String()),
  filename: Type.String(), contentType: Type.String(), size: Type.Integer(), ownerId: Type.String(), md5: Type.String(), sha256: Type.String(),
  createdAt: Type.String(), updatedAt: Type.String(), version: Type.Integer(),
});

function view(row: DocumentRow): Static<typeof Document> {
  return {
    id: row.document_id, fileId: row.file_id, title: row.title, description: row.description, tags: row.tags, filename: row.filename,
    contentType: row.content_type, size: row.size, ownerId: row.owner_id, md5: row.md5, sha256: row.sha256,
    createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

/** An opaque keyset cursor: the last row's sort value and id, so paging is stable under inserts. */
const encodeCursor = (value: string, id: string) => Buffer.from(JSON.stringify([value, id])).toString('base64url');
function decodeCursor(cursor: string): [string, string] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string')) return parsed as [string, string];
  } catch { /* fall through */ }
  throw httpError(400, 'INVALID_CURSOR', 'the cursor is not one this API issued');
}

/** RFC 9110 single byte range: "bytes=a-b", "bytes=a-" or "bytes=-n". */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) throw httpError(416, 'RANGE_NOT_SATISFIABLE', 'only one byte range "bytes=start-end" is supported');
  let start: number;
  let end: number;
  if (match[1] === '') { start = Math.max(0, size - Number(match[2])); end = size - 1; } else { start = Number(match[1]); end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1); }
  if (start > end || start >= size) throw httpError(416, 'RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`);
  return { start, end };
}

export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function documentQueryRoutes(app: App, options: { memberships: MembershipQueries; tenantPools: TenantPools; freshness: Freshness; s3: S3Clients; store: CommandStore }): Promise<void> {
  const { memberships, tenantPools, freshness, s3, store } = options;
  app.addHook('onRequest', app.authenticate);

  /** The caller's tenant database, fresh enough for X-Min-Position; 404 for non-members. */
  async function tenantDb(request: Parameters<Freshness['tenant']>[0], tenantId: string) {
    const membership = await memberships.memberOf(tenantId, request.actor.userId, { fresh: request.headers['x-min-position'] !== undefined });
    if (membership.status !== 'active') throw httpError(409, 'TENANT_NOT_READY', 'the tenant database is still being provisioned');
    const db = await tenantPools.get(membership.database_name);
    await freshness.tenant(request, tenantId, async () => db);
    return { db, membership };
  }

  async function findDocument(db: DatabasePool, documentId: string): Promise<DocumentRow> {
    const row = await db.maybeOne(sql.type(DocumentRow)`select ${COLUMNS} from documents d join files f using (file_id) where d.document_id = ${documentId}`);
    if (!row) throw httpError(404, 'DOCUMENT_NOT_FOUND', 'no such document');
    return row;
  }

  app.get('/api/tenants/:tenantId/documents', {
    schema: {
      tags: ['documents'], summary: 'List documents, paged with a cursor', ...secured, params: TenantParams,
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), cursor: Type.Optional(Type.String({ maxLength: 500 })),
        title: Type.Optional(Type.String({ maxLength: 255 })), tag: Type.Optional(Type.String({ maxLength: 50 })), owner: Type.Optional(Type.String({ format: 'uuid' })),
        sort: Type.Union([Type.Literal('created_at'), Type.Literal('title')], { default: 'created_at' }),
        order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Document), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (request) => {
    const { db } = await tenantDb(request, request.params.tenantId);
    const q = request.query;
    const key = q.sort === 'title' ? sql.fragment`lower(d.title)` : sql.fragment`d.created_at`;
    const keyText = q.sort === 'title' ? sql.fragment`lower(d.title)` : sql.fragment`to_json(d.created_at)#>>'{}'`;
    const desc = q.order === 'desc';
    const conditions = [sql.fragment`true`];
    if (q.title) conditions.push(sql.fragment`d.title ilike ${`%${q.title.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
    if (q.tag) conditions.push(sql.fragment`${q.tag} = any(d.tags)`);
    if (q.owner) conditions.push(sql.fragment`d.owner_id = ${q.owner}`);
    if (q.cursor) {
      const [value, id] = decodeCursor(q.cursor);
      const typed = q.sort === 'title' ? sql.fragment`${value}` : sql.fragment`${value}::timestamptz`;
      conditions.push(desc ? sql.fragment`(${key}, d.document_id) < (${typed}, ${id}::uuid)` : sql.fragment`(${key}, d.document_id) > (${typed}, ${id}::uuid)`);
    }
    const direction = desc ? sql.fragment`desc` : sql.fragment`asc`;
    const rows = await db.any(sql.type(ListedDocumentRow)`
      select ${COLUMNS}, ${keyText} as sort_key from documents d join files f using (file_id)
      where ${sql.join(conditions, sql.fragment` and `)}
      order by ${key} ${direction}, d.document_id ${direction} limit ${q.limit}`);
    const last = rows.at(-1);
    return { items: rows.map(view), nextCursor: rows.length === q.limit && last ? encodeCursor(last.sort_key, last.document_id) : null };
  });

  app.get('/api/tenants/:tenantId/documents/:documentId', {
    schema: { tags: ['documents'], summary: 'One document', ...secured, params: DocumentParams, response: { 200: Document, ...errors } },
  }, async (request, reply) => {
    const { db } = await tenantDb(request, request.params.tenantId);
    const document = view(await findDocument(db, request.params.documentId));
    reply.header('etag', `"${document.version}"`);
    return document;
  });

  app.get('/api/tenants/:tenantId/documents/:documentId/download', {
    schema: { tags: ['documents'], summary: "Stream the document's bytes through the API (Range supported)", ...secured, params: DocumentParams },
  }, async (request, reply) => {
    const { db } = await tenantDb(request, request.params.tenantId);
    const document = await findDocument(db, request.params.documentId);
    const { size } = document;
    const range = parseRange(request.headers.range, size);
    const object = await s3.internal.send(new GetObjectCommand({
      Bucket: s3.bucket, Key: document.s3_key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
    }));
    reply.header('content-type', document.content_type);
    reply.header('content-disposition', contentDisposition(document.filename));
    reply.header('accept-ranges', 'bytes');
    reply.header('etag', `"${document.sha256}"`);
    reply.header('x-content-type-options', 'nosniff');
    if (range) {
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
      reply.header('content-length', String(range.end - range.start + 1));
    } else {
      reply.header('content-length', String(size));
    }
    return reply.send(object.Body as NodeJS.ReadableStream);
  });

  app.get('/api/tenants/:tenantId/documents/:documentId/download-url', {
    schema: {
      tags: ['documents'], summary: 'A pre-signed URL that works without a token until it expires; every URL issued is an audit event', ...secured, params: DocumentParams,
      querystring: Type.Object({ expires_in: Type.Integer({ minimum: 1, maximum: 86400, default: 3600 }) }),
      response: { 200: Type.Object({ url: Type.String(), expiresAt: Type.String(), expiresIn: Type.Integer() }), ...errors },
    },
  }, async (request) => {
    const { tenantId, documentId } = request.params;
    const { db } = await tenantDb(request, tenantId);
    const document = await findDocument(db, documentId);
    const expiresIn = request.query.expires_in;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + expiresIn * 1000).toISOString();
    const url = await getSignedUrl(s3.publicSigner, new GetObjectCommand({
      Bucket: s3.bucket, Key: document.s3_key,
      ResponseContentDisposition: contentDisposition(document.filename), ResponseContentType: document.content_type,
    }), { expiresIn });
    // Issuing a URL is a command (the audit trail of who could download what), sent through the
    // one command path; it is decided on the document's state and recorded on its own stream.
    await executeCommand(store, {
      reads: [streamRef(documentDecider, documentStreamId(documentId)) as StreamRef<unknown>],
      decide: (loaded) => [decision(downloadTrailDecider(loaded.get(documentStreamId(documentId))!.state as DocumentState), downloadTrailStreamId(documentId), {
        type: 'IssueDownloadUrl', data: { actorId: request.actor.userId, expiresInSeconds: expiresIn, expiresAt, now: now.toISOString() },
      }, { anyVersion: true })],
    }, { tenantId, actor: request.actor.userId, correlationId: request.id, causationId: null, occurredAt: now }, { respond: () => undefined });
    return { url, expiresAt, expiresIn };
  });
}
