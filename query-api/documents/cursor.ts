import { httpError } from '../../core/adapters/http.ts';

/** An opaque keyset cursor: the last row's sort value and id, so paging is stable under inserts. */
export function encodeCursor(value: string, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;

/** A timestamp whose date and time exist (V8's Date.parse takes 2025-02-30, PostgreSQL refuses it: a 500). */
function isTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    y >= 1000 &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s &&
    Number(m[9] ?? 0) <= 15 &&
    Number(m[10] ?? 0) <= 59
  );
}

/** The cursor's parts, checked to be what the query will cast them to: anything else is a 400. */
export function decodeCursor(cursor: string, kind: 'text' | 'timestamp'): { value: string; id: string } {
  const invalid = () => httpError(400, 'INVALID_CURSOR', 'the cursor is not one this API issued');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [value, id] = parsed as unknown[];
  if (typeof value !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw invalid();
  if (kind === 'timestamp' && !isTimestamp(value)) throw invalid();
  if (value.includes('\u0000') || !value.isWellFormed() || value.length > 1000) throw invalid();
  return { value, id };
}
