import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { createVerifier } from 'fast-jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import type { DatabasePool } from './db.ts';
import type { Invalidations } from '../eventing/invalidation.ts';
import { createSessionLiveness } from './sessions.ts';
import { createJwtKeyRing, type JwtKeyRing } from './jwt-keys.ts';
import { httpError } from './http.ts';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; sid: string; typ: 'access' };
    user: { sub: string; sid: string; typ: 'access' };
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** Signs an access token with the current key, named in its `kid` header. */
    signAccessToken: (claims: { sub: string; sid: string; typ: 'access' }) => string;
  }
  interface FastifyRequest {
    actor: { userId: string; sessionId: string };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Verifies access tokens (HS256 pinned, issuer and audience checked) and that their session is
 * still live in the shared sessions table, so a logout is seen by every API instance at once.
 */
type Claims = { sub: string; sid: string; typ: string };

export const authentication = fp(
  async (app: FastifyInstance, options: { config: Config; pool: DatabasePool; invalidations: Invalidations; jwtKeys?: JwtKeyRing }) => {
    const { config, pool } = options;
    const keys = options.jwtKeys ?? createJwtKeyRing(config.JWT_SECRET);
    const sessions = createSessionLiveness(pool, options.invalidations);
    await app.register(jwt, {
      // Keys rotate (core/adapters/jwt-keys.ts): each token is verified with the key its `kid` names.
      secret: {
        private: keys.signing().key,
        public: (_request: FastifyRequest, token: object, done: (err: Error | null, key: string) => void) => {
          const kid = 'header' in token ? (token.header as { kid?: unknown }).kid : undefined;
          done(null, keys.verifying(typeof kid === 'string' ? kid : undefined));
        },
      },
      decode: { complete: true },
      sign: { algorithm: 'HS256', iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS },
      // fast-jwt checks iss/aud only when present: require them (and the rest of ours) outright.
      verify: { algorithms: ['HS256'], allowedIss: config.JWT_ISSUER, allowedAud: config.JWT_AUDIENCE, requiredClaims: ['iss', 'aud', 'exp', 'sub', 'sid'] },
    });
    app.decorate('signAccessToken', (claims: { sub: string; sid: string; typ: 'access' }) => {
      const { key, kid } = keys.signing();
      return app.jwt.sign(claims, { key, kid });
    });
    // Verifying the token was the largest part of a cached read's CPU (profiled: @fastify/jwt's
    // per-call option merging, a decode, then the HMAC). One fast-jwt verifier per key, built once,
    // remembers the tokens it checked (keyed by their hash); fast-jwt re-checks exp and nbf on
    // every hit, and a token verified with a retired key misses the current key's verifier.
    const verifiers = new Map<string, (token: string) => Claims>();
    const kids = new Map<string, string | undefined>();
    const verifierFor = (key: string) => {
      let verifier = verifiers.get(key);
      if (!verifier) {
        if (verifiers.size >= 4) verifiers.clear(); // keys rotate rarely: only the current and previous matter
        verifier = createVerifier({
          key,
          algorithms: ['HS256'],
          allowedIss: config.JWT_ISSUER,
          allowedAud: config.JWT_AUDIENCE,
          requiredClaims: ['iss', 'aud', 'exp', 'sub', 'sid'],
          cache: 10_000,
        }) as (token: string) => Claims;
        verifiers.set(key, verifier);
      }
      return verifier;
    };
    /** The key id named by a token's header (one of a handful of distinct headers, remembered). */
    const kidOf = (token: string) => {
      const header = token.slice(0, token.indexOf('.'));
      if (kids.has(header)) return kids.get(header);
      const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid?: unknown };
      const value = typeof kid === 'string' ? kid : undefined;
      if (kids.size < 100) kids.set(header, value);
      return value;
    };
    const verifyAccessToken = (authorization: string): Claims => {
      const match = /^Bearer +([A-Za-z0-9_.-]+)$/i.exec(authorization);
      if (!match) throw new Error('not a bearer token');
      const token = match[1]!;
      return verifierFor(keys.verifying(kidOf(token)))(token);
    };
    app.decorateRequest('actor', null as never);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      if (!request.headers.authorization) throw httpError(401, 'UNAUTHENTICATED', 'an access token is required (Authorization: Bearer ...)');
      let claims: Claims;
      try {
        claims = verifyAccessToken(request.headers.authorization);
      } catch {
        throw httpError(401, 'INVALID_TOKEN', 'the access token is invalid or expired');
      }
      if (claims.typ !== 'access') throw httpError(401, 'INVALID_TOKEN', 'not an access token');
      if (!UUID.test(String(claims.sid)) || !UUID.test(String(claims.sub))) throw httpError(401, 'INVALID_TOKEN', 'the token names no session');
      if (!(await sessions.isLive(claims.sid, claims.sub))) throw httpError(401, 'SESSION_REVOKED', 'the session has ended; log in again');
      request.actor = { userId: claims.sub, sessionId: claims.sid };
    });
  },
  { name: 'authentication' },
);
