import { timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
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
    // helmet's headers, computed once: @fastify/helmet builds its middleware again on every
    // request (parsing the CSP each time), which was 3-6 % of a cached read's CPU in the query
    // API's profile, and the middleware itself still renders the CSP and a dozen headers per
    // request (3.7 % of the command API's CPU under the commands benchmark, perf). Nothing here
    // depends on the request (no nonce, no function directive), so every answer gets the same.
    const { set, removed } = await headersOf(
      helmet({
        contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
        crossOriginResourcePolicy: { policy: 'same-site' },
      }),
    );
    app.addHook('onRequest', (request, reply, done) => {
      for (const [name, value] of set) reply.raw.setHeader(name, value);
      for (const name of removed) reply.raw.removeHeader(name);
      done();
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

/** What a request-independent middleware sets and removes on an answer: run once on a blank one. */
async function headersOf(
  middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void,
): Promise<{ set: [string, string | number | string[]][]; removed: string[] }> {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  const removed: string[] = [];
  const remove = res.removeHeader.bind(res);
  res.removeHeader = (name: string) => {
    removed.push(name);
    remove(name);
  };
  await new Promise<void>((resolve, reject) => middleware(req, res, (err) => (err ? reject(err as Error) : resolve())));
  const set = Object.entries(res.getHeaders()).flatMap(([name, value]) => (value === undefined ? [] : [[name, value] as [string, string | number | string[]]]));
  return { set, removed };
}

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
