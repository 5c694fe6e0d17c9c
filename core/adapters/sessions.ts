import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { Config } from './config.ts';
import { sql, rowSchema, type DatabasePool, type DatabaseTransactionConnection } from './db.ts';
import { httpError } from './http.ts';
import { createInvalidatedCache, type Invalidations } from '../eventing/invalidation.ts';

export type TokenAnswer = { access_token: string; refresh_token: string; token_type: 'Bearer'; expires_in: number; refresh_expires_in: number };

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const RemainingRow = rowSchema(Type.Object({ remaining: Type.Number() }));

const RefreshRow = rowSchema(
  Type.Object({
    session_id: Type.String(),
    user_id: Type.String(),
    rotated: Type.Boolean(),
    live: Type.Boolean(),
  }),
);

export type SignAccessToken = (claims: { sub: string; sid: string; typ: 'access' }) => string;

const SessionRow = rowSchema(Type.Object({ user_id: Type.String(), expires_at_ms: Type.Number(), live: Type.Boolean() }));

/**
 * Whether a session is live, as every request of both APIs asks (core/adapters/auth.ts): read
 * once per session and then served from memory until a logout, password change or refresh-token
 * reuse changes the row, whose trigger notifies every instance.
 */
export function createSessionLiveness(pool: DatabasePool, invalidations: Invalidations) {
  const sessions = createInvalidatedCache<{ user_id: string; expires_at_ms: number; live: boolean } | null>(invalidations, (key) => [key]);
  return {
    /** Live: not revoked, not expired, and the session of `userId` (a session id alone proves nothing). */
    async isLive(sessionId: string, userId: string): Promise<boolean> {
      const session = await sessions.get(`session:${sessionId}`, () =>
        pool.maybeOne(sql.type(SessionRow)`
          select user_id, (extract(epoch from expires_at) * 1000)::float8 as expires_at_ms, revoked_at is null as live
          from sessions where session_id = ${sessionId}`),
      );
      return session !== null && session.live && session.user_id === userId && session.expires_at_ms > Date.now();
    },
  };
}

/**
 * Sessions and rotating refresh tokens, in the shared database every API instance checks: this
 * module is the one reader and writer of `sessions` and `refresh_tokens`. Access tokens are signed
 * with the function it is given.
 */
export function createSessions(signAccessToken: SignAccessToken, pool: DatabasePool, config: Config) {
  const refreshTtl = config.REFRESH_TOKEN_TTL_SECONDS;

  const maxLifetime = config.SESSION_MAX_LIFETIME_SECONDS;

  /**
   * A new refresh token, and the session extended by the refresh lifetime, but never past its
   * absolute lifetime counted from the login: a stolen refresh token kept fresh by rotation
   * still dies then.
   */
  async function issue(tx: DatabaseTransactionConnection, userId: string, sessionId: string): Promise<TokenAnswer> {
    const refreshToken = randomBytes(32).toString('base64url');
    const remaining = await tx.oneFirst(sql.type(RemainingRow)`
      update sessions set expires_at = least(now() + make_interval(secs => ${refreshTtl}), created_at + make_interval(secs => ${maxLifetime}))
      where session_id = ${sessionId}
      returning greatest(0, floor(extract(epoch from expires_at - now())))::int as remaining`);
    await tx.query(sql.unsafe`
      insert into refresh_tokens (token_hash, session_id, expires_at)
      values (${hashToken(refreshToken)}, ${sessionId}, now() + make_interval(secs => ${remaining}))`);
    const accessToken = signAccessToken({ sub: userId, sid: sessionId, typ: 'access' });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: config.ACCESS_TOKEN_TTL_SECONDS,
      refresh_expires_in: remaining,
    };
  }

  return {
    /** A new session (a login) with its first token pair, in the caller's transaction (the one recording the login). */
    async start(tx: DatabaseTransactionConnection, userId: string, sessionId: string = randomUUID()): Promise<TokenAnswer> {
      await tx.query(sql.unsafe`
        insert into sessions (session_id, user_id, expires_at) values (${sessionId}, ${userId}, now() + make_interval(secs => ${refreshTtl}))`);
      return issue(tx, userId, sessionId);
    },

    /**
     * Rotates a refresh token. Presenting one that was already rotated means it leaked: the
     * whole session (the token family) is revoked, the thief's and the owner's tokens alike.
     */
    async refresh(refreshToken: string, onReuse: (userId: string, sessionId: string) => Promise<void>): Promise<TokenAnswer> {
      type Outcome =
        { error: 'INVALID_REFRESH_TOKEN' | 'SESSION_REVOKED' } | { error: 'REFRESH_TOKEN_REUSED'; userId: string; sessionId: string } | { tokens: TokenAnswer };
      const outcome = await pool.transaction(async (tx): Promise<Outcome> => {
        const row = await tx.maybeOne(sql.type(RefreshRow)`
          select s.session_id, s.user_id, r.rotated_at is not null as rotated,
                 (s.revoked_at is null and s.expires_at > now() and r.expires_at > now()
                  and s.created_at + make_interval(secs => ${maxLifetime}) > now()) as live
          from refresh_tokens r join sessions s using (session_id)
          where r.token_hash = ${hashToken(refreshToken)} for update of r, s`);
        if (!row) return { error: 'INVALID_REFRESH_TOKEN' };
        if (row.rotated) {
          await tx.query(sql.unsafe`
            update sessions set revoked_at = now(), revoked_reason = 'refresh token reused'
            where session_id = ${row.session_id} and revoked_at is null`);
          return { error: 'REFRESH_TOKEN_REUSED', userId: row.user_id, sessionId: row.session_id };
        }
        if (!row.live) return { error: 'SESSION_REVOKED' };
        await tx.query(sql.unsafe`update refresh_tokens set rotated_at = now() where token_hash = ${hashToken(refreshToken)}`);
        return { tokens: await issue(tx, row.user_id, row.session_id) };
      });
      if ('error' in outcome) {
        // Recorded after the revocation committed: the session ends even if the record fails.
        if (outcome.error === 'REFRESH_TOKEN_REUSED') await onReuse(outcome.userId, outcome.sessionId);
        const message =
          outcome.error === 'REFRESH_TOKEN_REUSED'
            ? 'this refresh token was already used; the session has been revoked'
            : 'the refresh token is invalid, expired or revoked';
        throw httpError(401, outcome.error, message);
      }
      return outcome.tokens;
    },

    async revoke(db: DatabaseTransactionConnection, sessionId: string, reason: string): Promise<void> {
      await db.query(sql.unsafe`
        update sessions set revoked_at = now(), revoked_reason = ${reason} where session_id = ${sessionId} and revoked_at is null`);
    },

    /** Ends every other session of the user (after a password change). */
    async revokeOthers(tx: DatabaseTransactionConnection, userId: string, keepSessionId: string): Promise<void> {
      await tx.query(sql.unsafe`
        update sessions set revoked_at = now(), revoked_reason = 'password changed'
        where user_id = ${userId} and session_id <> ${keepSessionId} and revoked_at is null`);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

/** Ends every live session of a user (an erased account); each API instance hears of it through the trigger. */
export async function revokeAllSessions(tx: DatabaseTransactionConnection, userId: string, reason: string): Promise<void> {
  await tx.query(sql.unsafe`update sessions set revoked_at = now(), revoked_reason = ${reason} where user_id = ${userId} and revoked_at is null`);
}
