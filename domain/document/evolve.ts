import type { DocumentCreated, DocumentEvent } from './events.ts';

type DocumentDetails = Omit<DocumentCreated['data'], 'createdAt'> & { createdAt: string; updatedAt: string };

export type DocumentState =
  | { status: 'initial' }
  | ({ status: 'active' } & DocumentDetails)
  | {
      status: 'deleted';
      documentId: string;
      tenantId: string;
      fileId: string;
      ownerId: string;
      deletedBy: string;
      deletedAt: string;
    };

export const initialDocumentState = (): DocumentState => ({ status: 'initial' });

export function evolveDocument(state: DocumentState, event: DocumentEvent): DocumentState {
  switch (event.type) {
    case 'DocumentCreated':
      return { status: 'active', ...event.data, updatedAt: event.data.createdAt };
    case 'DocumentUpdated': {
      if (state.status !== 'active') return state;
      const { title, description, tags, updatedAt } = event.data;
      return {
        ...state,
        ...(title === undefined ? {} : { title }),
        ...(description === undefined ? {} : { description }),
        ...(tags === undefined ? {} : { tags }),
        updatedAt,
      };
    }
    case 'DocumentDeleted': {
      if (state.status !== 'active') return state;
      const { documentId, tenantId, fileId, deletedBy, deletedAt } = event.data;
      return { status: 'deleted', documentId, tenantId, fileId, ownerId: state.ownerId, deletedBy, deletedAt };
    }
    case 'DownloadUrlIssued':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
