import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { App } from '../../core/adapters/http.ts';
import { retryLaterError } from '../../core/adapters/http.ts';
import type { Config } from '../../core/adapters/config.ts';
import type { DatabasePool } from '../../core/adapters/db.ts';
import { postgresRateLimitStore } from '../../core/adapters/rate-limit-store.ts';

type Limits = Pick<Config, 'AUTH_RATE_LIMIT_PER_IP' | 'AUTH_RATE_LIMIT_PER_ACCOUNT' | 'AUTH_RATE_LIMIT_WINDOW_SECONDS'>;

/**
 * Rate limits of the credential routes (register, login, refresh, password change): per client
 * IP and per account, counted in PostgreSQL so that every command API instance enforces the same
 * limit. `guard(route)` gives the check of one route, called from its preHandler: it runs after validation,
 * so the account is known, and before the handler, so a refused attempt costs no bcrypt.
 */
export async function credentialRateLimits(app: App, pool: DatabasePool, limits: Limits) {
  await app.register(rateLimit, { global: false, store: postgresRateLimitStore(pool) });
  const timeWindow = limits.AUTH_RATE_LIMIT_WINDOW_SECONDS * 1000;

  // The account of a request being checked, for the key generator (which only gets the request).
  const accounts = new WeakMap<FastifyRequest, string>();

  return function guard(route: string) {
    const byIp = app.createRateLimit({ max: limits.AUTH_RATE_LIMIT_PER_IP, timeWindow, keyGenerator: (request) => `${route}:ip:${request.ip}` });
    const byAccount = app.createRateLimit({
      max: limits.AUTH_RATE_LIMIT_PER_ACCOUNT,
      timeWindow,
      keyGenerator: (request) => `${route}:account:${accounts.get(request) ?? ''}`,
    });
    return async (request: FastifyRequest, account: string): Promise<void> => {
      accounts.set(request, account);
      for (const [limit, what] of [
        [byIp, 'from this address'],
        [byAccount, 'for this account'],
      ] as const) {
        const outcome = await limit(request);
        if (!outcome.isAllowed && outcome.isExceeded) {
          throw retryLaterError(429, 'RATE_LIMITED', `too many attempts ${what}; retry in ${outcome.ttlInSeconds} s`, outcome.ttlInSeconds);
        }
      }
    };
  };
}

export type CredentialGuard = Awaited<ReturnType<typeof credentialRateLimits>>;

/** The account a credential request is about, normalised like the email claim (case-insensitive). */
export const emailAccount = (email: string) => email.trim().toLowerCase();
export const tokenAccount = (token: string) => createHash('sha256').update(token).digest('base64url');
