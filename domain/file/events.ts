import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

export const FileStoredEvent = defineEvent('FileStored', {
  fileId: Uuid(),
  tenantId: Uuid(),
  s3Key: Type.String({ minLength: 1, maxLength: 1024 }),
  md5: Type.String({ pattern: '^[0-9a-f]{32}$', examples: ['d41d8cd98f00b204e9800998ecf8427e'] }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', examples: ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] }),
  size: Type.Integer({ minimum: 1 }),
  contentType: Type.String({ minLength: 1, maxLength: 255 }),
  storedAt: Timestamp(),
});
export type FileStored = Static<typeof FileStoredEvent>;

export const DocumentAttachedEvent = defineEvent('DocumentAttached', { fileId: Uuid(), documentId: Uuid() });
export type DocumentAttached = Static<typeof DocumentAttachedEvent>;

export const DocumentDetachedEvent = defineEvent('DocumentDetached', { fileId: Uuid(), documentId: Uuid() });
export type DocumentDetached = Static<typeof DocumentDetachedEvent>;

/** reason: 'LAST_DOCUMENT_DETACHED' when it follows a DocumentDetached, else the command's reason. */
export const FileDeletionScheduledEvent = defineEvent('FileDeletionScheduled', {
  fileId: Uuid(),
  s3Key: Type.String({ minLength: 1, maxLength: 1024 }),
  reason: Type.String({ minLength: 1, maxLength: 200 }),
});
export type FileDeletionScheduled = Static<typeof FileDeletionScheduledEvent>;

export const FileObjectDeletedEvent = defineEvent('FileObjectDeleted', {
  fileId: Uuid(),
  s3Key: Type.String({ minLength: 1, maxLength: 1024 }),
  deletedAt: Timestamp(),
});
export type FileObjectDeleted = Static<typeof FileObjectDeletedEvent>;

export const FileEventSchema = Type.Union([FileStoredEvent, DocumentAttachedEvent, DocumentDetachedEvent, FileDeletionScheduledEvent, FileObjectDeletedEvent]);
export type FileEvent = Static<typeof FileEventSchema>;
