import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.ts';
import { unavailableDependency } from './unavailable.ts';
import { isOperator } from './http-security.ts';

/** The body of every error answer (the shape `errorHandling` sends), for route schemas. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String() }),
  },
  { description: 'Every error: a stable machine-readable code and a human message' },
);

/** An error that carries its HTTP status and a stable machine-readable code. */
export type CodedError = Error & { statusCode: number; code: string };

export function httpError(statusCode: number, code: string, message: string): CodedError {
  return Object.assign(new Error(message), { statusCode, code });
}

/** A 429/503 that tells the client when to come back (the error handler sets Retry-After). */
export function retryLaterError(statusCode: 429 | 503, code: string, message: string, retryAfterSeconds: number): CodedError {
  return Object.assign(httpError(statusCode, code, message), { retryAfterSeconds });
}

function isCoded(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as CodedError).statusCode === 'number' && typeof (error as CodedError).code === 'string';
}

/** Fastify's own client errors, given codes our clients can rely on. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'INVALID_URL',
  FST_ERR_ASYNC_CONSTRAINT: 'INVALID_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'NOT_MULTIPART',
  FST_REQ_FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_PARTS',
  FST_ERR_JWT_NO_AUTHORIZATION_IN_HEADER: 'UNAUTHENTICATED',
};

/** One error shape for every route: `{ error: { code, message } }`; 5xx details stay in the log. */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
      if (error.validation) {
        return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: error.message } });
      }
      const status = error.statusCode ?? 500;
      // A coded 5xx (e.g. 504 READ_MODEL_BEHIND) is an answer we chose, not a failure to hide.
      if (isCoded(error) && status >= 500 && status !== 500) {
        request.log.warn({ code: error.code }, error.message);
        return reply.code(status).send({ error: { code: error.code, message: error.message } });
      }
      if (status >= 500 || !isCoded(error)) {
        if (status < 500 && typeof error.statusCode === 'number') {
          const code = FASTIFY_CODES[error.code] ?? 'BAD_REQUEST';
          return reply.code(status).send({ error: { code, message: error.message } });
        }
        const down = unavailableDependency(error);
        if (down) {
          request.log.warn({ err: error, code: down.code }, 'dependency unavailable');
          return reply.code(503).header('retry-after', '2').send({ error: down });
        }
        request.log.error({ err: error }, 'request failed');
        return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
      }
      return reply.code(status).send({ error: { code: FASTIFY_CODES[error.code] ?? error.code, message: error.message } });
    });
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url}` } });
    });
  },
  { name: 'error-handling' },
);

export type ReadinessCheck = { name: string; check: () => Promise<unknown> };

/** GET /health (the process lives), GET /ready (its dependencies answer), GET /metrics. */
export const operations = fp(
  async (app: FastifyInstance, options: { checks: ReadinessCheck[]; metrics: Metrics; service: string; operatorToken?: string }) => {
    const latency = options.metrics.histogram('http_request_duration_seconds', 'HTTP request latency');
    app.addHook('onResponse', async (request, reply) => {
      latency.observe(reply.elapsedTime / 1000, { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) });
    });
    app.get('/health', { logLevel: 'warn' }, async () => ({ status: 'ok', service: options.service }));
    app.get('/ready', { logLevel: 'warn' }, async (request, reply) => {
      const results = await Promise.all(
        options.checks.map(async ({ name, check }) => {
          const started = performance.now();
          try {
            await withTimeout(check(), 2000);
            return { name, ok: true, ms: Math.round(performance.now() - started) };
          } catch (err) {
            return { name, ok: false, error: (err as Error).message };
          }
        }),
      );
      const ready = results.every((r) => r.ok);
      // Which dependency fails, and its error text, is for operators (OPERATOR_TOKEN), not the public.
      const details = isOperator(request, options.operatorToken ?? '') ? { checks: results } : {};
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', service: options.service, ...details });
    });
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.render()));
  },
  { name: 'operations' },
);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A Fastify instance with our logger, the TypeBox type provider and the shared error shape. */
export async function createApp(
  logger: FastifyBaseLogger,
  options: {
    bodyLimit?: number;
    trustProxy?: boolean | string[] | ((address: string, hop: number) => boolean);
    requestTimeout?: number;
    connectionTimeout?: number;
  } = {},
): Promise<App> {
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: options.trustProxy ?? false,
    requestTimeout: options.requestTimeout ?? 0,
    connectionTimeout: options.connectionTimeout ?? 0,
    // Request ids are uuids so that they can serve as correlation ids of the events a request causes.
    genReqId: (request) => {
      const given = request.headers['x-correlation-id'];
      return typeof given === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(given) ? given : randomUUID();
    },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Errors the router answers before any route (a malformed or overlong path parameter) get
    // the one error shape too; Fastify's own answer has no { error: { code } }.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URL_TOO_LONG' : (FASTIFY_CODES[error.code] ?? 'BAD_REQUEST');
      void reply.code(status).send({ error: { code, message: error.message } });
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(errorHandling);
  app.addHook('preValidation', async (request) => {
    if (!storable(request.body) || !storable(request.query) || !storable(request.params)) {
      throw httpError(400, 'INVALID_CHARACTERS', 'text must not contain NUL characters or unpaired UTF-16 surrogates');
    }
  });
  return app;
}

/**
 * Whether every string in a parsed body, query or params can be stored: PostgreSQL refuses NUL
 * in text and unpaired surrogates in jsonb, so such input is a 400 here rather than a 500 there.
 */
export function storable(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.isWellFormed() && !value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return true;
  if (Buffer.isBuffer(value)) return true;
  for (const [key, item] of Object.entries(value)) {
    if (!storable(key, depth + 1) || !storable(item, depth + 1)) return false;
  }
  return true;
}
