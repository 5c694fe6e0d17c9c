import { ValidationError } from './errors.ts';

type TextRule = { code: string; label: string; min: number; max: number };

/** Text that can be stored and shown: no NUL, no unpaired UTF-16 surrogate. */
export function isStorableText(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000');
}

/** Trims, then checks the length in characters (code points, so an emoji counts once). */
export function requireTrimmedText(value: string, rule: TextRule): string {
  if (!isStorableText(value)) throw new ValidationError(rule.code, `${rule.label} contains a NUL character or an unpaired surrogate`);
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < rule.min || length > rule.max) {
    throw new ValidationError(rule.code, `${rule.label} must be ${rule.min} to ${rule.max} characters long`);
  }
  return trimmed;
}

export function requirePositiveInteger(value: number, code: string, label: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ValidationError(code, `${label} must be a positive integer`);
  }
  return value;
}
