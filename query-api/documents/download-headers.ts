import { httpError } from '../../core/adapters/http.ts';

/** RFC 9110 single byte range: "bytes=a-b", "bytes=a-" or "bytes=-n". */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) throw httpError(416, 'RANGE_NOT_SATISFIABLE', 'only one byte range "bytes=start-end" is supported');
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) throw httpError(416, 'RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`);
  return { start, end };
}

/** A download's filename as a header that cannot be split or spoofed: ASCII fallback plus RFC 5987. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
