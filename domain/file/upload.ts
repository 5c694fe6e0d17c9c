import { decideInSequence, foldEvents } from '../shared/decider.ts';
import type { StoreFile } from './commands.ts';
import type { FileEvent } from './events.ts';
import { activeFileId, type FileState } from './evolve.ts';
import { fileDecider } from './decider.ts';

export type UploadDecision = {
  /** Append all of these to the file stream with one expected version. */
  events: FileEvent[];
  /** The fileId the new document must reference. */
  fileId: string;
  /** true when the content was already stored: the caller's own uploaded object is now an orphan to delete. */
  deduplicated: boolean;
};

/** StoreFile then AttachDocument as one decision, so a concurrent deletion cannot slip in between. */
export function decideUpload(store: StoreFile, documentId: string, state: FileState): UploadDecision {
  const events = decideInSequence(fileDecider, [store, { type: 'AttachDocument', data: { documentId } }], state);
  const fileId = activeFileId(foldEvents(fileDecider, events, state));
  if (fileId === null) throw new Error('unreachable: a stored file is active');
  return { events, fileId, deduplicated: fileId !== store.data.fileId };
}
