import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { requirePositiveInteger, requireTrimmedText } from '../shared/validation.ts';
import type { AttachDocument, DetachDocument, FileCommand, MarkFileObjectDeleted, ScheduleFileDeletion, StoreFile } from './commands.ts';
import type { FileEvent, FileStored } from './events.ts';
import type { FileState } from './evolve.ts';

type ExistingFile = Exclude<FileState, { status: 'initial' }>;

const MD5_HEX = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function decideFile(command: FileCommand, state: FileState): FileEvent[] {
  switch (command.type) {
    case 'StoreFile':
      return storeFile(command, state);
    case 'AttachDocument':
      return attachDocument(command, requireExisting(state));
    case 'DetachDocument':
      return detachDocument(command, requireExisting(state));
    case 'ScheduleFileDeletion':
      return scheduleFileDeletion(command, requireExisting(state));
    case 'MarkFileObjectDeleted':
      return markObjectDeleted(command, requireExisting(state));
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

/** First event wins: storing content that is already active changes nothing (the caller reuses activeFileId). */
function storeFile(command: StoreFile, state: FileState): FileEvent[] {
  const stored = validFileStored(command);
  if (state.status === 'initial') return [stored];
  const { file } = state;
  if (file.tenantId !== stored.data.tenantId || file.sha256 !== stored.data.sha256 || file.size !== stored.data.size) {
    throw new ValidationError('FILE_IDENTITY_MISMATCH', 'tenantId, sha256 and size must match the file stream');
  }
  if (state.status === 'active') return [];
  if (file.fileId === stored.data.fileId || state.pendingDeletions.some((object) => object.fileId === stored.data.fileId)) {
    throw new ConflictError('FILE_ID_REUSED', 'a new generation of this file needs a new fileId');
  }
  return [stored];
}

function attachDocument({ data }: AttachDocument, state: ExistingFile): FileEvent[] {
  if (state.status !== 'active') {
    throw new ConflictError('FILE_NOT_ACTIVE', 'this file is being deleted: store it again before attaching a document');
  }
  if (state.documentIds.includes(data.documentId)) return [];
  return [{ type: 'DocumentAttached', data: { fileId: state.file.fileId, documentId: data.documentId } }];
}

function detachDocument({ data }: DetachDocument, state: ExistingFile): FileEvent[] {
  if (state.status !== 'active' || !state.documentIds.includes(data.documentId)) return [];
  const { fileId, s3Key } = state.file;
  const detached: FileEvent = { type: 'DocumentDetached', data: { fileId, documentId: data.documentId } };
  if (state.documentIds.length > 1) return [detached];
  return [detached, { type: 'FileDeletionScheduled', data: { fileId, s3Key, reason: 'LAST_DOCUMENT_DETACHED' } }];
}

function scheduleFileDeletion({ data }: ScheduleFileDeletion, state: ExistingFile): FileEvent[] {
  const reason = requireTrimmedText(data.reason, { code: 'INVALID_REASON', label: 'reason', min: 1, max: 200 });
  if (state.status !== 'active' || state.file.fileId !== data.fileId) return [];
  if (state.documentIds.length > 0) throw new ConflictError('FILE_IN_USE', 'documents still use this file');
  return [{ type: 'FileDeletionScheduled', data: { fileId: data.fileId, s3Key: state.file.s3Key, reason } }];
}

function markObjectDeleted({ data }: MarkFileObjectDeleted, state: ExistingFile): FileEvent[] {
  const pending = state.pendingDeletions.find((object) => object.fileId === data.fileId);
  if (pending) return [{ type: 'FileObjectDeleted', data: { ...pending, deletedAt: data.now } }];
  if (state.status === 'active' && state.file.fileId === data.fileId) {
    throw new ConflictError('FILE_DELETION_NOT_SCHEDULED', 'this file is in use: its object must not be deleted');
  }
  return [];
}

function validFileStored({ data }: StoreFile): FileStored {
  requirePositiveInteger(data.size, 'INVALID_SIZE', 'size');
  if (!MD5_HEX.test(data.md5)) throw new ValidationError('INVALID_MD5', 'md5 must be 32 lower-case hex digits');
  if (!SHA256_HEX.test(data.sha256)) throw new ValidationError('INVALID_SHA256', 'sha256 must be 64 lower-case hex digits');
  const contentType = requireTrimmedText(data.contentType, { code: 'INVALID_CONTENT_TYPE', label: 'contentType', min: 1, max: 255 });
  const s3Key = requireTrimmedText(data.s3Key, { code: 'INVALID_S3_KEY', label: 's3Key', min: 1, max: 1024 });
  const { fileId, tenantId, md5, sha256, size, now } = data;
  return { type: 'FileStored', data: { fileId, tenantId, s3Key, md5, sha256, size, contentType, storedAt: now } };
}

function requireExisting(state: FileState): ExistingFile {
  if (state.status === 'initial') throw new NotFoundError('FILE_NOT_FOUND', 'file not found');
  return state;
}
