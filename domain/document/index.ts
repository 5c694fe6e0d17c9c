import type { Decider } from '../shared/decider.ts';
import type { DocumentCommand, IssueDownloadUrl } from './commands.ts';
import { decideDocument } from './decide.ts';
import type { DocumentEvent } from './events.ts';
import { evolveDocument, initialDocumentState, type DocumentState } from './evolve.ts';

export const documentStreamId = (documentId: string): string => `document-${documentId}`;
/** Issued download URLs: a stream of their own, so issuing one never changes the document's version (ETag). */
export const downloadTrailStreamId = (documentId: string): string => `document-${documentId}-downloads`;

export const documentDecider: Decider<DocumentCommand, DocumentEvent, DocumentState> = {
  initialState: initialDocumentState,
  decide: decideDocument,
  evolve: evolveDocument,
};

/**
 * The download trail's decider: IssueDownloadUrl is decided on the document's state (only an
 * active document gets URLs), and its events go to the trail stream, which keeps no state.
 */
export const downloadTrailDecider = (document: DocumentState): Decider<IssueDownloadUrl, DocumentEvent, null> => ({
  initialState: () => null,
  decide: (command) => decideDocument(command, document),
  evolve: (state) => state,
});

export * from './commands.ts';
export * from './events.ts';
export * from './fields.ts';
export { decideDocument } from './decide.ts';
export { evolveDocument, initialDocumentState, type DocumentState } from './evolve.ts';
