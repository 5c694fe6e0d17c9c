import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { createVerifier } from 'fast-jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from './db.ts';
import { createInvalidatedCache, type Invalidations } from '../eventing/invalidation.ts';
import { createJwtKeyRing, type JwtKeyRing } from './jwt-keys.ts';
import { httpError } from './http.ts';

const SessionRowSchema = Type.Object({ user_id: Type.String(), expires_at_ms: Type.Number(), live: Type.Boolean() });
type SessionRow = Static<typeof SessionRowSchema>;
const SessionRow = rowSchema(SessionRowSchema);

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
    // Session liveness is read once per session and then served from memory until a logout,
    // password change or refresh-token reuse changes the row (its trigger notifies every instance).
    const sessions = createInvalidatedCache<SessionRow | null>(options.invalidations, (key) => [key]);
    const sessionOf = (sid: string) =>
      sessions.get(`session:${sid}`, () =>
        pool.maybeOne(sql.type(SessionRow)`
    select user_id, (extract(epoch from expires_at) * 1000)::float8 as expires_at_ms, revoked_at is null as live
    from sessions where session_id = ${sid}`),
      );
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
      const session = await sessionOf(claims.sid);
      // The session must be the token subject's own: a sid alone proves nothing.
      const live = session !== null && session.live && session.user_id === claims.sub && session.expires_at_ms > Date.now();
      if (!live) throw httpError(401, 'SESSION_REVOKED', 'the session has ended; log in again');
      request.actor = { userId: claims.sub, sessionId: claims.sid };
    });
  },
  { name: 'authentication' },
);
