import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';

/**
 * Fastify's `trustProxy` from TRUST_PROXY: `false` (the default: X-Forwarded-For is ignored, so a
 * client cannot pick the IP its rate limits count against), `true`, a hop count, or a
 * comma-separated list of proxy addresses/CIDRs.
 */
export function trustProxyFrom(setting: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = setting.trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** CORS_ORIGINS: a comma-separated list of exact origins; empty means no cross-origin access. */
export function corsOriginsFrom(setting: string): string[] {
  return setting
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/**
 * Security headers on every answer (helmet; a JSON API needs no script, so the CSP is
 * `default-src 'none'`; the Swagger UI sets its own) and CORS for the configured origins only.
 */
export const httpSecurity = fp(
  async (app: FastifyInstance, options: { corsOrigins: string[] }) => {
    // helmet's middleware built once: @fastify/helmet builds it again on every request (parsing
    // the CSP each time), which was 3-6 % of a cached read's CPU in the query API's profile.
    const securityHeaders = helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    app.addHook('onRequest', (request, reply, done) => {
      securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
    });
    await app.register(cors, {
      origin: options.corsOrigins.length === 0 ? false : options.corsOrigins,
      exposedHeaders: ['etag', 'x-position', 'idempotent-replayed', 'retry-after', 'content-disposition'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'if-match',
        'idempotency-key',
        'x-min-position',
        'x-correlation-id',
        'x-content-sha256',
        'x-content-md5',
        'range',
      ],
      maxAge: 600,
    });
  },
  { name: 'http-security' },
);

/** Whether the request carries the operator bearer token (constant-time; never when none is configured). */
export function isOperator(request: FastifyRequest, operatorToken: string): boolean {
  if (operatorToken === '') return false;
  const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(operatorToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The server options of an API from configuration: proxy trust and the request/connection timeouts. */
export function apiServerOptions(config: Pick<Config, 'TRUST_PROXY' | 'REQUEST_TIMEOUT_MS' | 'CONNECTION_TIMEOUT_MS'>) {
  return { trustProxy: trustProxyFrom(config.TRUST_PROXY), requestTimeout: config.REQUEST_TIMEOUT_MS, connectionTimeout: config.CONNECTION_TIMEOUT_MS };
}
