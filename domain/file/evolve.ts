import type { FileEvent, FileStored } from './events.ts';

export type StoredFile = FileStored['data'];
export type ObjectToDelete = { fileId: string; s3Key: string };

/**
 * One stream holds successive generations of the same content: once a generation's object is
 * scheduled for deletion, a new upload starts a new generation (new fileId and s3Key) while the
 * old object's deletion is still tracked in pendingDeletions.
 */
export type FileState =
  | { status: 'initial' }
  | { status: 'active'; file: StoredFile; documentIds: readonly string[]; pendingDeletions: readonly ObjectToDelete[] }
  | { status: 'deletionScheduled'; file: StoredFile; pendingDeletions: readonly ObjectToDelete[] }
  | { status: 'deleted'; file: StoredFile; pendingDeletions: readonly ObjectToDelete[] };

export const initialFileState = (): FileState => ({ status: 'initial' });

/** The fileId new documents must use for this content, or null if no generation is active. */
export function activeFileId(state: FileState): string | null {
  return state.status === 'active' ? state.file.fileId : null;
}

export function evolveFile(state: FileState, event: FileEvent): FileState {
  switch (event.type) {
    case 'FileStored':
      return { status: 'active', file: event.data, documentIds: [], pendingDeletions: pendingOf(state) };
    case 'DocumentAttached':
      return state.status === 'active' && !state.documentIds.includes(event.data.documentId)
        ? { ...state, documentIds: [...state.documentIds, event.data.documentId] }
        : state;
    case 'DocumentDetached':
      return state.status === 'active' ? { ...state, documentIds: state.documentIds.filter((id) => id !== event.data.documentId) } : state;
    case 'FileDeletionScheduled': {
      if (state.status === 'initial') return state;
      const pendingDeletions = [...state.pendingDeletions, { fileId: event.data.fileId, s3Key: event.data.s3Key }];
      return state.status === 'active' && state.file.fileId === event.data.fileId
        ? { status: 'deletionScheduled', file: state.file, pendingDeletions }
        : { ...state, pendingDeletions };
    }
    case 'FileObjectDeleted': {
      if (state.status === 'initial') return state;
      const pendingDeletions = state.pendingDeletions.filter((object) => object.fileId !== event.data.fileId);
      return state.status === 'deletionScheduled' && state.file.fileId === event.data.fileId
        ? { status: 'deleted', file: state.file, pendingDeletions }
        : { ...state, pendingDeletions };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function pendingOf(state: FileState): readonly ObjectToDelete[] {
  return state.status === 'initial' ? [] : state.pendingDeletions;
}
