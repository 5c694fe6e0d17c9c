import { ValidationError } from '../shared/errors.ts';
import { requireTrimmedText } from '../shared/validation.ts';

export const MAX_TITLE_LENGTH = 255;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;
export const MAX_DOWNLOAD_URL_SECONDS = 86_400;
const TAG_SHAPE = /^[\p{L}\p{N}_.-]+$/u;
// Filenames end up in Content-Disposition headers and on users' disks: no paths, no control
// characters, and no bidirectional controls (which can show "invoice\u202Efdp.exe" as "invoiceexe.pdf").
export const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const UNSAFE_FILENAME_CHARACTERS = /[/\\\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export function requireTitle(title: string): string {
  return requireTrimmedText(title, { code: 'INVALID_TITLE', label: 'title', min: 1, max: MAX_TITLE_LENGTH });
}

export function requireDescription(description: string): string {
  return requireTrimmedText(description, { code: 'INVALID_DESCRIPTION', label: 'description', min: 0, max: MAX_DESCRIPTION_LENGTH });
}

export function requireFilename(filename: string): string {
  const trimmed = requireTrimmedText(filename, { code: 'INVALID_FILENAME', label: 'filename', min: 1, max: MAX_TITLE_LENGTH });
  if (UNSAFE_FILENAME_CHARACTERS.test(trimmed)) {
    throw new ValidationError('INVALID_FILENAME', 'filename must not contain slashes, control or bidirectional control characters');
  }
  return trimmed;
}

/** Tags keep the order given; duplicates are refused rather than silently dropped. */
export function requireTags(tags: readonly string[]): string[] {
  if (tags.length > MAX_TAGS) throw new ValidationError('INVALID_TAGS', `at most ${MAX_TAGS} tags`);
  const trimmed = tags.map((tag) => tag.trim());
  for (const tag of trimmed) {
    if ([...tag].length < 1 || [...tag].length > MAX_TAG_LENGTH || !TAG_SHAPE.test(tag)) {
      throw new ValidationError('INVALID_TAGS', `each tag is 1 to ${MAX_TAG_LENGTH} letters, digits, "_", "." or "-"`);
    }
  }
  if (new Set(trimmed).size !== trimmed.length) throw new ValidationError('INVALID_TAGS', 'tags must be unique');
  return trimmed;
}

export function requireExpiresIn(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_DOWNLOAD_URL_SECONDS) {
    throw new ValidationError('INVALID_EXPIRES_IN', `expires_in must be 1 to ${MAX_DOWNLOAD_URL_SECONDS} seconds`);
  }
  return seconds;
}
