import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';
import { RoleSchema } from '../shared/roles.ts';

/** ownerId is the uploading actor; an absent or blank title defaults to the filename. */
export const CreateDocumentCommand = defineCommand('CreateDocument', {
  documentId: Uuid(),
  tenantId: Uuid(),
  fileId: Uuid(),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  ownerId: Uuid(),
  actorRole: RoleSchema,
  now: Timestamp(),
});
export type CreateDocument = Static<typeof CreateDocumentCommand>;

/** Absent fields stay as they are; an empty description clears it. */
export const UpdateDocumentCommand = defineCommand('UpdateDocument', {
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  actorId: Uuid(),
  actorRole: RoleSchema,
  now: Timestamp(),
});
export type UpdateDocument = Static<typeof UpdateDocumentCommand>;

export const DeleteDocumentCommand = defineCommand('DeleteDocument', {
  actorId: Uuid(),
  actorRole: RoleSchema,
  now: Timestamp(),
});
export type DeleteDocument = Static<typeof DeleteDocumentCommand>;

/** Any member may ask; expiresAt = now + expiresInSeconds, computed by the caller that signs the URL. */
export const IssueDownloadUrlCommand = defineCommand('IssueDownloadUrl', {
  actorId: Uuid(),
  expiresInSeconds: Type.Integer(),
  expiresAt: Timestamp(),
  now: Timestamp(),
});
export type IssueDownloadUrl = Static<typeof IssueDownloadUrlCommand>;

export const DocumentCommandSchema = Type.Union([CreateDocumentCommand, UpdateDocumentCommand, DeleteDocumentCommand, IssueDownloadUrlCommand]);
export type DocumentCommand = Static<typeof DocumentCommandSchema>;
