import { Type, type Static } from 'typebox';
import { defineCommand, Timestamp, Uuid } from '../shared/message.ts';

/** fileId and s3Key are the caller's fresh upload; if the content is already stored, decide returns []. */
export const StoreFileCommand = defineCommand('StoreFile', {
  fileId: Uuid(),
  tenantId: Uuid(),
  s3Key: Type.String(),
  md5: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  contentType: Type.String(),
  now: Timestamp(),
});
export type StoreFile = Static<typeof StoreFileCommand>;

export const AttachDocumentCommand = defineCommand('AttachDocument', { documentId: Uuid() });
export type AttachDocument = Static<typeof AttachDocumentCommand>;

/** Detaching the last document also schedules the object's deletion. */
export const DetachDocumentCommand = defineCommand('DetachDocument', { documentId: Uuid() });
export type DetachDocument = Static<typeof DetachDocumentCommand>;

/** For files no document uses (e.g. an upload whose document was never created). */
export const ScheduleFileDeletionCommand = defineCommand('ScheduleFileDeletion', { fileId: Uuid(), reason: Type.String() });
export type ScheduleFileDeletion = Static<typeof ScheduleFileDeletionCommand>;

/** Sent by whoever deleted the object from S3. */
export const MarkFileObjectDeletedCommand = defineCommand('MarkFileObjectDeleted', { fileId: Uuid(), now: Timestamp() });
export type MarkFileObjectDeleted = Static<typeof MarkFileObjectDeletedCommand>;

export const FileCommandSchema = Type.Union([
  StoreFileCommand,
  AttachDocumentCommand,
  DetachDocumentCommand,
  ScheduleFileDeletionCommand,
  MarkFileObjectDeletedCommand,
]);
export type FileCommand = Static<typeof FileCommandSchema>;
