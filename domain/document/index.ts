import type { Decider } from '../shared/decider.ts';
import type { DocumentCommand } from './commands.ts';
import { decideDocument } from './decide.ts';
import type { DocumentEvent } from './events.ts';
import { evolveDocument, initialDocumentState, type DocumentState } from './evolve.ts';

export const documentStreamId = (documentId: string): string => `document-${documentId}`;

export const documentDecider: Decider<DocumentCommand, DocumentEvent, DocumentState> = {
  initialState: initialDocumentState,
  decide: decideDocument,
  evolve: evolveDocument,
};

export * from './commands.ts';
export * from './events.ts';
export * from './fields.ts';
export { decideDocument } from './decide.ts';
export { evolveDocument, initialDocumentState, type DocumentState } from './evolve.ts';
