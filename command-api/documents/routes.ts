import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { MultipartFile } from '@fastify/multipart';
import type { App } from '../../core/adapters/http.ts';
import { httpError } from '../../core/adapters/http.ts';
import { decision, streamRef, type EventStreams, type Loaded, type StreamRef } from '../../core/eventing/command-handler.ts';
import type { S3Clients } from '../../core/adapters/s3.ts';
import { decideInSequence } from '../../domain/shared/decider.ts';
import { decideUpload, fileDecider, fileStreamId, type FileState } from '../../domain/file/index.ts';
import { documentDecider, documentStreamId, type DocumentState } from '../../domain/document/index.ts';
import { answerCommand, ifMatchVersion } from '../answer-command.ts';
import { CommandAccepted, ErrorResponse } from '../schemas.ts';
import { accessFrom, requireRole, tenantAccess, tenantReads, type TenantAccess } from '../tenants/access.ts';
import { detectContentType, safeFilename } from './content-type.ts';
import { createFileQueries } from './file-queries.ts';
import { deleteObject, fileKey, receiveFile, type ReceivedFile } from '../../core/adapters/object-store.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../../domain/shared/roles.ts';
import type { UploadSlots } from './upload-slots.ts';

/** A file received now, or content the tenant already has (named by its SHA-256, nothing received). */
type Upload = Omit<ReceivedFile, 'storeAt' | 'discard'> & { received?: ReceivedFile; filename: string; claimed: string; fileId?: string };

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  408: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  415: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};
const DocumentParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }), documentId: Type.String({ format: 'uuid' }) });
const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
const secured = { security: [{ bearer: [] }] };

/** StoreFile and AttachDocument decided together against one file stream version. */
const fileUploadDecider = {
  ...fileDecider,
  decide: (commands: Parameters<typeof fileDecider.decide>[0][], state: FileState) => decideInSequence(fileDecider, commands, state),
};

function activeTenant(access: TenantAccess) {
  if (access.tenant.status !== 'active') throw httpError(409, 'TENANT_NOT_READY', 'the tenant database is still being provisioned; retry shortly');
  return access.tenant;
}

function parseTags(values: string[]): string[] | undefined {
  if (values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}

export async function documentRoutes(app: App, options: { store: EventStreams; s3: S3Clients; slots: UploadSlots; stallMs: number }): Promise<void> {
  const { store, s3, slots, stallMs } = options;
  const files = createFileQueries(store.pool);
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/api/tenants/:tenantId/documents',
    {
      schema: {
        tags: ['documents'],
        summary: 'Upload a document (multipart: file, optional title, description, tags)',
        ...secured,
        consumes: ['multipart/form-data'],
        params: TenantParams,
        response: {
          201: Type.Object({
            id: Type.String(),
            fileId: Type.String(),
            version: Type.Integer(),
            position: Type.Integer(),
            md5: Type.String(),
            sha256: Type.String(),
            size: Type.Integer(),
            contentType: Type.String(),
            deduplicated: Type.Boolean(),
          }),
          ...errors,
        },
      },
      preHandler: slots.hold,
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw httpError(415, 'NOT_MULTIPART', 'send multipart/form-data with a `file` part');
      const { tenantId } = request.params;
      const access = await tenantAccess(store, tenantId, request.actor.userId);
      requireRole(access, ['admin', 'user']);
      const tenant = activeTenant(access);
      let staged: Upload | undefined;
      try {
        const received = await receiveParts(request, tenant.databaseName);
        staged = received.staged;
        const known = staged ? undefined : await knownContent(request.headers['x-content-sha256'], tenantId, received.fields.filename?.[0]);
        const upload = staged ?? known;
        if (!upload) throw httpError(400, 'MISSING_FILE', 'the multipart body has no `file` part (or send X-Content-SHA256 of content the tenant already has)');
        if (upload.size === 0) throw httpError(400, 'EMPTY_FILE', 'the file is empty');
        const contentType = known ? known.claimed : detectContentType(upload.head, upload.filename, upload.claimed);
        return await storeDocument(request, reply, { tenantId, databaseName: tenant.databaseName, role: access.role }, upload, contentType, received.fields);
      } finally {
        await staged?.received?.discard();
      }
    },
  );

  /** X-Content-MD5: the hex MD5 of the file part, if the client declares it. */
  function declaredContentMd5(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined;
    const value = String(header).trim().toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(value)) throw httpError(400, 'INVALID_CONTENT_MD5', "X-Content-MD5 must be the 32 hex digits of the file's MD5");
    return value;
  }

  /** Reads the multipart parts: fields are collected, the one `file` part streams to S3 as it arrives. */
  async function receiveParts(request: FastifyRequest, databaseName: string): Promise<{ fields: Record<string, string[]>; staged?: Upload }> {
    const fields: Record<string, string[]> = {};
    const declaredMd5 = declaredContentMd5(request.headers['x-content-md5']);
    let staged: Upload | undefined;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          (fields[part.fieldname] ??= []).push(String(part.value));
          continue;
        }
        const file = part as MultipartFile;
        if (file.fieldname !== 'file') {
          file.file.resume();
          throw httpError(400, 'UNEXPECTED_FILE_FIELD', `file parts go in the field "file", not "${file.fieldname}"`);
        }
        if (staged) {
          file.file.resume();
          throw httpError(400, 'TOO_MANY_FILES', 'send exactly one file per upload');
        }
        // A declared MD5 names the final key before the bytes arrive: they stream straight to it.
        const fileId = randomUUID();
        const declared = declaredMd5 === undefined ? undefined : { md5: declaredMd5, key: fileKey(s3, databaseName, declaredMd5, fileId) };
        const received = await receiveFile(s3, file.file, databaseName, stallMs, declared);
        staged = { ...received, received, filename: safeFilename(file.filename), claimed: file.mimetype, fileId };
      }
    } catch (err) {
      await staged?.received?.discard();
      throw err;
    }
    return staged ? { fields, staged } : { fields };
  }

  /**
   * The File (if this content is new in the tenant) and the Document, appended together.
   * Concurrent uploads of the same bytes race on the file stream: the first FileStored wins,
   * the others find it when they decide again and only add a document (their copy is deleted).
   */
  async function storeDocument(
    request: FastifyRequest,
    reply: FastifyReply,
    tenant: { tenantId: string; databaseName: string; role: Role },
    upload: Upload,
    contentType: string,
    fields: Record<string, string[]>,
  ): Promise<FastifyReply> {
    const { tenantId } = tenant;
    const documentId = randomUUID();
    const streamId = fileStreamId(tenantId, upload.sha256, upload.size);
    const ownFileId = upload.fileId ?? randomUUID();
    const ownKey = fileKey(s3, tenant.databaseName, upload.md5, ownFileId);
    const tags = parseTags(fields.tags ?? []);
    const storeFile = {
      type: 'StoreFile' as const,
      data: {
        fileId: ownFileId,
        tenantId,
        s3Key: ownKey,
        md5: upload.md5,
        sha256: upload.sha256,
        size: upload.size,
        contentType,
        now: new Date().toISOString(),
      },
    };
    let copied = false;
    let outcome: { fileId: string; deduplicated: boolean } = { fileId: ownFileId, deduplicated: false };
    try {
      const answered = await answerCommand(store, request, reply, {
        actor: request.actor.userId,
        tenantId,
        // A multipart body is not JSON: the same key must mean the same bytes and fields.
        fingerprint: { sha256: upload.sha256, size: upload.size, filename: upload.filename, fields },
        maxAttempts: 25,
        decisions: {
          reads: [streamRef(fileDecider, streamId) as StreamRef<unknown>],
          decide: async (loaded) => {
            outcome = decideUpload(storeFile, documentId, (loaded.get(streamId) as Loaded<FileState>).state);
            if (!outcome.deduplicated && !copied) {
              if (upload.received === undefined) throw httpError(409, 'CONTENT_NOT_FOUND', 'the tenant no longer has this content; send the file');
              await upload.received.storeAt(ownKey);
              copied = true;
            }
            return [
              decision(fileUploadDecider, streamId, [storeFile, { type: 'AttachDocument', data: { documentId } }]),
              decision(documentDecider, documentStreamId(documentId), {
                type: 'CreateDocument',
                data: {
                  documentId,
                  tenantId,
                  fileId: outcome.fileId,
                  filename: upload.filename,
                  contentType,
                  size: upload.size,
                  ownerId: request.actor.userId,
                  actorRole: tenant.role,
                  now: new Date().toISOString(),
                  ...(fields.title?.[0] === undefined ? {} : { title: fields.title[0] }),
                  ...(fields.description?.[0] === undefined ? {} : { description: fields.description[0] }),
                  ...(tags === undefined ? {} : { tags }),
                },
              }),
            ];
          },
        },
        answer: ({ versions }) => ({
          statusCode: 201,
          version: versions[documentStreamId(documentId)],
          body: {
            id: documentId,
            fileId: outcome.fileId,
            md5: upload.md5,
            sha256: upload.sha256,
            size: upload.size,
            contentType,
            deduplicated: outcome.deduplicated,
          },
        }),
      });
      if (outcome.deduplicated && copied) await deleteObject(s3, ownKey);
      return answered;
    } catch (err) {
      if (copied) await deleteObject(s3, ownKey);
      throw err;
    }
  }

  app.put(
    '/api/tenants/:tenantId/documents/:documentId',
    {
      schema: {
        tags: ['documents'],
        summary: "Change a document's title, description or tags (admin, or its owner)",
        ...secured,
        params: DocumentParams,
        body: Type.Object(
          {
            title: Type.Optional(Type.String({ maxLength: 255 })),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            tags: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, documentId } = request.params;
      const ifMatch = ifMatchVersion(request);
      return answerCommand(store, request, reply, {
        actor: request.actor.userId,
        tenantId,
        decisions: {
          reads: documentReads(tenantId, documentId),
          decide: (loaded) => {
            const access = documentAccess(loaded, tenantId, documentId, request.actor.userId);
            return [
              decision(
                documentDecider,
                documentStreamId(documentId),
                {
                  type: 'UpdateDocument',
                  data: { ...request.body, actorId: request.actor.userId, actorRole: access.role, now: new Date().toISOString() },
                },
                { ifMatch },
              ),
            ];
          },
        },
        answer: ({ versions }) => ({ statusCode: 200, body: { id: documentId }, version: versions[documentStreamId(documentId)] }),
      });
    },
  );

  app.delete(
    '/api/tenants/:tenantId/documents/:documentId',
    {
      schema: {
        tags: ['documents'],
        summary: 'Delete a document (admin, or its owner); the last document of a file schedules the object for deletion',
        ...secured,
        params: DocumentParams,
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { tenantId, documentId } = request.params;
      const ifMatch = ifMatchVersion(request);
      let fileId = '';
      return answerCommand(store, request, reply, {
        actor: request.actor.userId,
        tenantId,
        decisions: {
          reads: documentReads(tenantId, documentId),
          decide: async (loaded) => {
            const access = documentAccess(loaded, tenantId, documentId, request.actor.userId);
            fileId = (loaded.get(documentStreamId(documentId)) as Loaded<Extract<DocumentState, { status: 'active' }>>).state.fileId;
            return [
              decision(
                documentDecider,
                documentStreamId(documentId),
                {
                  type: 'DeleteDocument',
                  data: { actorId: request.actor.userId, actorRole: access.role, now: new Date().toISOString() },
                },
                { ifMatch },
              ),
              decision(fileDecider, await files.fileStreamOf(fileId), { type: 'DetachDocument', data: { documentId } }),
            ];
          },
        },
        answer: ({ versions }) => ({ statusCode: 200, body: { id: documentId, fileId }, version: versions[documentStreamId(documentId)] }),
      });
    },
  );

  /**
   * Content the tenant already stores, named by X-Content-SHA256 instead of sent again: the
   * upload then only adds a document. MD5 (Content-MD5) is not accepted for this, since MD5
   * collisions can be made on purpose.
   */
  async function knownContent(header: unknown, tenantId: string, filename: string | undefined) {
    if (header === undefined) return undefined;
    const sha256 = String(header).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw httpError(400, 'INVALID_CONTENT_SHA256', 'X-Content-SHA256 must be 64 hex digits');
    const stored = await files.findStoredContent(tenantId, sha256);
    if (!stored) throw httpError(409, 'CONTENT_NOT_FOUND', 'the tenant has no content with this SHA-256; send the file');
    return { md5: stored.md5, sha256, size: stored.size, head: Buffer.alloc(0), filename: safeFilename(filename), claimed: stored.content_type };
  }

  function documentReads(tenantId: string, documentId: string): StreamRef<unknown>[] {
    return [...tenantReads(tenantId), streamRef(documentDecider, documentStreamId(documentId)) as StreamRef<unknown>];
  }

  /** 404 for a document that does not exist in this tenant (another tenant's id included). */
  function documentAccess(loaded: ReadonlyMap<string, Loaded<unknown>>, tenantId: string, documentId: string, actorId: string): TenantAccess {
    const access = accessFrom(loaded, tenantId, actorId);
    activeTenant(access);
    const document = loaded.get(documentStreamId(documentId)) as Loaded<DocumentState>;
    if (document.state.status !== 'active' || document.state.tenantId !== tenantId) throw httpError(404, 'DOCUMENT_NOT_FOUND', 'no such document');
    return access;
  }
}
