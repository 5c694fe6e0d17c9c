import type { Decider } from '../shared/decider.ts';
import type { FileCommand } from './commands.ts';
import { decideFile } from './decide.ts';
import type { FileEvent } from './events.ts';
import { evolveFile, initialFileState, type FileState } from './evolve.ts';

/**
 * Content identity: the same bytes in one tenant share one stream. MD5 is not part of it (collisions
 * can be made on purpose); the size is a cheap extra guard on top of SHA-256.
 */
export const fileStreamId = (tenantId: string, sha256: string, size: number): string => `file-${tenantId}-${sha256}-${size}`;

export const fileDecider: Decider<FileCommand, FileEvent, FileState> = {
  initialState: initialFileState,
  decide: decideFile,
  evolve: evolveFile,
};
