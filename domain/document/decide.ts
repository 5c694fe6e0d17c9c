import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors.ts';
import { canModifyDocument, canWriteDocuments, type Role } from '../shared/roles.ts';
import { requirePositiveInteger, requireTrimmedText } from '../shared/validation.ts';
import type { CreateDocument, DeleteDocument, DocumentCommand, IssueDownloadUrl, UpdateDocument } from './commands.ts';
import type { DocumentEvent, DocumentUpdated } from './events.ts';
import type { DocumentState } from './evolve.ts';
import { requireDescription, requireExpiresIn, requireFilename, requireTags, requireTitle } from './fields.ts';

type ActiveDocument = Extract<DocumentState, { status: 'active' }>;

export function decideDocument(command: DocumentCommand, state: DocumentState): DocumentEvent[] {
  switch (command.type) {
    case 'CreateDocument':
      return createDocument(command, state);
    case 'UpdateDocument':
      return updateDocument(command, requireActive(state));
    case 'DeleteDocument':
      return deleteDocument(command, requireActive(state));
    case 'IssueDownloadUrl':
      return issueDownloadUrl(command, requireActive(state));
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function createDocument({ data }: CreateDocument, state: DocumentState): DocumentEvent[] {
  if (!canWriteDocuments(data.actorRole)) throw new ForbiddenError('FORBIDDEN', 'viewers cannot upload documents');
  if (state.status !== 'initial') throw new ConflictError('DOCUMENT_EXISTS', 'this document already exists');
  const filename = requireFilename(data.filename);
  return [
    {
      type: 'DocumentCreated',
      data: {
        documentId: data.documentId,
        tenantId: data.tenantId,
        fileId: data.fileId,
        title: requireTitle(data.title?.trim() || filename),
        description: requireDescription(data.description ?? ''),
        tags: requireTags(data.tags ?? []),
        filename,
        contentType: requireTrimmedText(data.contentType, { code: 'INVALID_CONTENT_TYPE', label: 'contentType', min: 1, max: 255 }),
        size: requirePositiveInteger(data.size, 'INVALID_SIZE', 'size'),
        ownerId: data.ownerId,
        createdAt: data.now,
      },
    },
  ];
}

function updateDocument({ data }: UpdateDocument, document: ActiveDocument): DocumentEvent[] {
  requireModifiable(document, data.actorId, data.actorRole);
  const changes: Pick<DocumentUpdated['data'], 'title' | 'description' | 'tags'> = {};
  if (data.title !== undefined) {
    const title = requireTitle(data.title);
    if (title !== document.title) changes.title = title;
  }
  if (data.description !== undefined) {
    const description = requireDescription(data.description);
    if (description !== document.description) changes.description = description;
  }
  if (data.tags !== undefined) {
    const tags = requireTags(data.tags);
    if (!sameList(tags, document.tags)) changes.tags = tags;
  }
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'DocumentUpdated', data: { documentId: document.documentId, tenantId: document.tenantId, ...changes, updatedAt: data.now } }];
}

function deleteDocument({ data }: DeleteDocument, document: ActiveDocument): DocumentEvent[] {
  requireModifiable(document, data.actorId, data.actorRole);
  const { documentId, tenantId, fileId } = document;
  return [{ type: 'DocumentDeleted', data: { documentId, tenantId, fileId, deletedBy: data.actorId, deletedAt: data.now } }];
}

/** Membership (any role, viewers included) is checked by the caller before it signs the URL. */
function issueDownloadUrl({ data }: IssueDownloadUrl, document: ActiveDocument): DocumentEvent[] {
  requireExpiresIn(data.expiresInSeconds);
  const { documentId, tenantId } = document;
  return [{ type: 'DownloadUrlIssued', data: { documentId, tenantId, issuedTo: data.actorId, issuedAt: data.now, expiresAt: data.expiresAt } }];
}

function requireActive(state: DocumentState): ActiveDocument {
  if (state.status !== 'active') throw new NotFoundError('DOCUMENT_NOT_FOUND', 'document not found');
  return state;
}

function requireModifiable(document: ActiveDocument, actorId: string, actorRole: Role): void {
  if (!canWriteDocuments(actorRole)) throw new ForbiddenError('FORBIDDEN', 'viewers cannot change documents');
  if (!canModifyDocument(actorRole, actorId, document.ownerId)) {
    throw new ForbiddenError('NOT_OWNER', 'only the owner or an admin can change this document');
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
