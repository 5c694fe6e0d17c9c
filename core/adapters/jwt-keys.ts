import { createHash } from 'node:crypto';

/**
 * The HS256 keys of access tokens. New tokens are signed with the current key and name it in their
 * `kid` header; after a rotation the previous key still verifies the tokens it signed until they
 * have expired (rotation time + access-token lifetime), so a rotation logs nobody out. A token
 * without `kid` (issued before key ids existed) is checked against the current key.
 */
export type JwtKeyRing = {
  signing(): { kid: string; key: string };
  /** The key a token with this `kid` must verify with; an unknown or retired kid gets the current key (and fails). */
  verifying(kid: string | undefined): string;
  /** Installs a new current key; the old one is accepted until `previousValidUntil` (ms since epoch). */
  rotate(next: string, previousValidUntil: number): void;
};

/** A public, stable name for a key: same on every instance, reveals nothing usable about the key. */
export function keyId(key: string): string {
  return createHash('sha256').update(`ledgerline-jwt-key-id:${key}`).digest('base64url').slice(0, 16);
}

export function createJwtKeyRing(initial: string, now: () => number = Date.now): JwtKeyRing {
  let current = { kid: keyId(initial), key: initial };
  let previous: { kid: string; key: string; validUntil: number } | undefined;
  return {
    signing: () => current,
    verifying(kid) {
      if (previous && kid === previous.kid && kid !== current.kid && now() < previous.validUntil) return previous.key;
      return current.key;
    },
    rotate(next, previousValidUntil) {
      if (next === current.key) return;
      previous = { ...current, validUntil: previousValidUntil };
      current = { kid: keyId(next), key: next };
    },
  };
}
