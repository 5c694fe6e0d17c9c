/** Magic numbers of the formats we recognise; the client's Content-Type is only a fallback. */
const SIGNATURES: { type: string; bytes: number[]; offset?: number }[] = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: 'image/webp', bytes: [0x57, 0x45, 0x42, 0x50], offset: 8 },
  { type: 'application/gzip', bytes: [0x1f, 0x8b] },
  { type: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'application/x-7z-compressed', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
];

const ZIP_CONTAINERS: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
};

/**
 * The content type from the first bytes where they are conclusive; for zip containers the
 * extension picks the office format; otherwise the client's claim, if it is a sane media type.
 */
export function detectContentType(head: Buffer, filename: string, claimed: string | undefined): string {
  for (const { type, bytes, offset = 0 } of SIGNATURES) {
    if (head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b)) {
      if (type === 'application/zip') return ZIP_CONTAINERS[filename.split('.').pop()?.toLowerCase() ?? ''] ?? type;
      return type;
    }
  }
  // Claims of a format with a signature we know, which the bytes do not have, are not believed.
  const claim = claimed && /^[\w.+-]+\/[\w.+-]+$/.test(claimed) ? claimed.toLowerCase() : undefined;
  if (claim && !SIGNATURES.some((s) => s.type === claim)) return claim;
  return looksLikeText(head) ? 'text/plain' : 'application/octet-stream';
}

function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  return !head.some((b) => b === 0 || b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b));
}

/**
 * A filename safe to store and to echo in Content-Disposition: no paths, no control characters,
 * no bidirectional controls (they can disguise an extension), no unpaired surrogates, and cut to
 * 255 code points (never in the middle of a surrogate pair).
 */
export function safeFilename(name: string | undefined): string {
  const base = (name ?? '').toWellFormed().split(/[\\/]/).pop() ?? '';
  const stripped = base.replace(/[\u0000-\u001f\u007f"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/g, '').trim();
  const cleaned = [...stripped].slice(0, 255).join('').trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}
