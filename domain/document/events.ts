import { Type, type Static } from 'typebox';
import { defineEvent, Timestamp, Uuid } from '../shared/message.ts';

const Title = () => Type.String({ minLength: 1, maxLength: 255 });
const Description = () => Type.String({ maxLength: 2000 });
const Tags = () => Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, uniqueItems: true });

export const DocumentCreatedEvent = defineEvent('DocumentCreated', {
  documentId: Uuid(),
  tenantId: Uuid(),
  fileId: Uuid(),
  title: Title(),
  description: Description(),
  tags: Tags(),
  filename: Type.String({ minLength: 1, maxLength: 255 }),
  contentType: Type.String({ minLength: 1, maxLength: 255 }),
  size: Type.Integer({ minimum: 1 }),
  ownerId: Uuid(),
  createdAt: Timestamp(),
});
export type DocumentCreated = Static<typeof DocumentCreatedEvent>;

/** Carries only the fields that changed. */
export const DocumentUpdatedEvent = defineEvent('DocumentUpdated', {
  documentId: Uuid(),
  tenantId: Uuid(),
  title: Type.Optional(Title()),
  description: Type.Optional(Description()),
  tags: Type.Optional(Tags()),
  updatedAt: Timestamp(),
});
export type DocumentUpdated = Static<typeof DocumentUpdatedEvent>;

export const DocumentDeletedEvent = defineEvent('DocumentDeleted', {
  documentId: Uuid(),
  tenantId: Uuid(),
  fileId: Uuid(),
  deletedBy: Uuid(),
  deletedAt: Timestamp(),
});
export type DocumentDeleted = Static<typeof DocumentDeletedEvent>;

/** The audit trail of pre-signed URLs: who could download what, until when. */
export const DownloadUrlIssuedEvent = defineEvent('DownloadUrlIssued', {
  documentId: Uuid(),
  tenantId: Uuid(),
  issuedTo: Uuid(),
  issuedAt: Timestamp(),
  expiresAt: Timestamp(),
});
export type DownloadUrlIssued = Static<typeof DownloadUrlIssuedEvent>;

export const DocumentEventSchema = Type.Union([DocumentCreatedEvent, DocumentUpdatedEvent, DocumentDeletedEvent, DownloadUrlIssuedEvent]);
export type DocumentEvent = Static<typeof DocumentEventSchema>;
