export { fileDecider, fileStreamId } from './decider.ts';
export * from './commands.ts';
export * from './events.ts';
export { decideFile } from './decide.ts';
export { activeFileId, evolveFile, initialFileState, type FileState, type ObjectToDelete, type StoredFile } from './evolve.ts';
export { decideUpload, type UploadDecision } from './upload.ts';
