import { Type } from 'typebox';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { ErrorResponse, httpError, type App } from '../../core/adapters/http.ts';
import { decision, executeCommand, streamRef, type EventStreams, type StreamRef } from '../../core/eventing/command-handler.ts';
import type { S3Clients } from '../../core/adapters/s3.ts';
import type { TenantPools } from '../../core/adapters/tenant-pools.ts';
import { unavailableDependency } from '../../core/adapters/unavailable.ts';
import { documentDecider, documentStreamId, downloadTrailStreamId, downloadTrailDecider, type DocumentState } from '../../domain/document/index.ts';
import type { Freshness } from '../freshness.ts';
import type { MembershipQueries } from '../tenants/access.ts';
import { createDocumentQueries, Document, documentView, type DocumentQueries, type DocumentReadCache, type DocumentRow } from './document-queries.ts';
import { contentDisposition, parseRange } from './download-headers.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 416: ErrorResponse, 504: ErrorResponse };
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
const DocumentParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), documentId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

export async function documentQueryRoutes(
  app: App,
  options: { memberships: MembershipQueries; tenantPools: TenantPools; freshness: Freshness; s3: S3Clients; store: EventStreams; readCache: DocumentReadCache },
): Promise<void> {
  const { memberships, tenantPools, freshness, s3, store, readCache } = options;
  const pageBodies = new WeakMap<object, string>();
  app.addHook('onRequest', app.authenticate);

  /**
   * Runs `read` on the caller's tenant database, fresh enough for X-Min-Position; 404 for non-members.
   * A tenant that moves to another server (`npm run tenants -- move`) has its old database dropped
   * after a drain. A read that resolved the placement before the switch can still reach the old
   * database after that (a read-your-writes wait on a busy machine), and finds it gone: the
   * placement is then read afresh and, when it changed, the read runs once more on the new server.
   * The wait for X-Min-Position resolves the placement again on every poll, since the old
   * database's checkpoint stops moving at the switch.
   */
  async function onTenantDb<T>(
    request: Parameters<Freshness['tenant']>[0],
    tenantId: string,
    read: (tenant: { db: DatabasePool; reads: DocumentQueries }) => Promise<T>,
  ): Promise<T> {
    const fresh = request.headers['x-min-position'] !== undefined;
    const resolve = (options: { fresh: boolean }) => memberships.memberOf(tenantId, request.actor.userId, options);
    let membership = await resolve({ fresh });
    const attempt = async () => {
      if (membership.status !== 'active') throw httpError(409, 'TENANT_NOT_READY', 'the tenant database is still being provisioned');
      let polls = 0;
      await freshness.tenant(request, tenantId, async () => {
        if (polls++ > 0) membership = await resolve({ fresh: true });
        return tenantPools.get(membership.database_name, membership.server);
      });
      const db = await tenantPools.get(membership.database_name, membership.server);
      return read({ db, reads: readCache.forTenant(tenantId, db, fresh) });
    };
    try {
      return await attempt();
    } catch (err) {
      if (unavailableDependency(err)?.code !== 'DATABASE_UNAVAILABLE') throw err;
      const before = membership;
      membership = await resolve({ fresh: true });
      if (membership.server === before.server && membership.database_name === before.database_name) throw err;
      return attempt();
    }
  }

  async function findDocument(db: DatabasePool, documentId: string): Promise<DocumentRow> {
    const row = await createDocumentQueries(db).findDocument(documentId);
    if (!row) throw httpError(404, 'DOCUMENT_NOT_FOUND', 'no such document');
    return row;
  }

  app.get(
    '/api/tenants/:tenantId/documents',
    {
      schema: {
        tags: ['documents'],
        summary: 'List documents, paged with a cursor',
        ...secured,
        params: TenantParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          cursor: Type.Optional(Type.String({ maxLength: 500 })),
          title: Type.Optional(Type.String({ maxLength: 255 })),
          tag: Type.Optional(Type.String({ maxLength: 50 })),
          owner: Type.Optional(Type.String({ format: 'uuid' })),
          sort: Type.Union([Type.Literal('created_at'), Type.Literal('title')], { default: 'created_at' }),
          order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
        }),
        response: { 200: Type.Object({ items: Type.Array(Document), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
      },
    },
    async (request, reply) => {
      const page = await onTenantDb(request, request.params.tenantId, ({ reads }) => reads.listDocuments(request.query));
      // A cached page is serialized once: its JSON is the same for every member who reads it.
      let body = pageBodies.get(page);
      if (body === undefined) {
        body = JSON.stringify({ items: page.items.map(documentView), nextCursor: page.nextCursor });
        pageBodies.set(page, body);
      }
      // Fastify sends a string with a JSON content type as it is; its type provider expects the object.
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );

  app.get(
    '/api/tenants/:tenantId/documents/:documentId',
    {
      schema: { tags: ['documents'], summary: 'One document', ...secured, params: DocumentParams, response: { 200: Document, ...errors } },
    },
    async (request, reply) => {
      const row = await onTenantDb(request, request.params.tenantId, ({ reads }) => reads.findDocument(request.params.documentId));
      if (!row) throw httpError(404, 'DOCUMENT_NOT_FOUND', 'no such document');
      const document = documentView(row);
      reply.header('etag', `"${document.version}"`);
      return document;
    },
  );

  app.get(
    '/api/tenants/:tenantId/documents/:documentId/download',
    {
      schema: { tags: ['documents'], summary: "Stream the document's bytes through the API (Range supported)", ...secured, params: DocumentParams },
    },
    async (request, reply) => {
      const document = await onTenantDb(request, request.params.tenantId, ({ db }) => findDocument(db, request.params.documentId));
      const { size } = document;
      const range = parseRange(request.headers.range, size);
      const object = await s3.internal.send(
        new GetObjectCommand({
          Bucket: s3.bucket,
          Key: document.s3_key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
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
    },
  );

  app.get(
    '/api/tenants/:tenantId/documents/:documentId/download-url',
    {
      schema: {
        tags: ['documents'],
        summary: 'A pre-signed URL that works without a token until it expires; every URL issued is an audit event',
        ...secured,
        params: DocumentParams,
        querystring: Type.Object({ expires_in: Type.Integer({ minimum: 1, maximum: 86400, default: 3600 }) }),
        response: { 200: Type.Object({ url: Type.String(), expiresAt: Type.String(), expiresIn: Type.Integer() }), ...errors },
      },
    },
    async (request) => {
      const { tenantId, documentId } = request.params;
      const document = await onTenantDb(request, tenantId, ({ db }) => findDocument(db, documentId));
      const expiresIn = request.query.expires_in;
      const now = new Date();
      const expiresAt = new Date(now.getTime() + expiresIn * 1000).toISOString();
      const url = await getSignedUrl(
        s3.publicSigner,
        new GetObjectCommand({
          Bucket: s3.bucket,
          Key: document.s3_key,
          ResponseContentDisposition: contentDisposition(document.filename),
          ResponseContentType: document.content_type,
        }),
        { expiresIn },
      );
      // Issuing a URL is a command (the audit trail of who could download what), sent through the
      // one command path; it is decided on the document's state and recorded on its own stream.
      await executeCommand(
        store,
        {
          reads: [streamRef(documentDecider, documentStreamId(documentId)) as StreamRef<unknown>],
          decide: (loaded) => [
            decision(
              downloadTrailDecider(loaded.get(documentStreamId(documentId))!.state as DocumentState),
              downloadTrailStreamId(documentId),
              {
                type: 'IssueDownloadUrl',
                data: { actorId: request.actor.userId, expiresInSeconds: expiresIn, expiresAt, now: now.toISOString() },
              },
              { anyVersion: true },
            ),
          ],
        },
        { tenantId, actor: request.actor.userId, correlationId: request.id, causationId: null, occurredAt: now },
        { respond: () => undefined },
      );
      return { url, expiresAt, expiresIn };
    },
  );
}
