import type { FastifyReply, FastifyRequest } from 'fastify';
import { executeCommand, type CommandPlan, type EventStreams } from '../core/eventing/command-handler.ts';
import type { DatabaseTransactionConnection } from '../core/adapters/db.ts';
import { findAnswer, requestHash } from '../core/eventing/idempotency.ts';
import { httpError } from '../core/adapters/http.ts';

export type CommandAnswer = { statusCode: 201 | 202 | 200; body: Record<string, unknown>; version?: number | undefined };

/** The If-Match version a client sent ("3" or W/"3"), or undefined. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(String(header).trim());
  if (!match) throw httpError(400, 'INVALID_IF_MATCH', 'If-Match must be the version number from an ETag, e.g. "3"');
  return Number(match[1]);
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  const text = String(key);
  if (!/^[\x21-\x7e]{1,200}$/.test(text)) throw httpError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-200 visible ASCII characters');
  return text;
}

/**
 * Runs a command for an HTTP request: the plan through the one command path, the answer
 * (id, version as ETag, position) replayed for a repeated Idempotency-Key, correlation from
 * the request id. `answer` builds the response from the streams' new versions.
 */
export async function answerCommand(
  store: EventStreams,
  request: FastifyRequest,
  reply: FastifyReply,
  command: {
    actor: string | null;
    tenantId: string | null;
    decisions: CommandPlan;
    answer: (result: { versions: Record<string, number> }) => CommandAnswer;
    /** Write-side rows that commit with the events (credentials, sessions). */
    alsoInTransaction?: (tx: DatabaseTransactionConnection) => Promise<void>;
    /** What identifies the request for Idempotency-Key when it is not the JSON body (uploads). */
    fingerprint?: unknown;
    maxAttempts?: number;
  },
): Promise<FastifyReply> {
  const key = idempotencyKey(request);
  const actorKey = command.actor ?? `anonymous:${request.ip}`;
  const hash = key === undefined ? '' : requestHash(request.server.fingerprintKey, request.method, request.url, command.fingerprint ?? request.body);
  if (key) {
    const previous = await findAnswer(store.pool, actorKey, key, hash);
    if (previous) return send(reply, previous.statusCode, previous.body as Record<string, unknown>, true);
  }
  try {
    const result = await executeCommand(
      store,
      command.decisions,
      {
        tenantId: command.tenantId,
        actor: command.actor,
        correlationId: request.id,
        causationId: null,
        occurredAt: new Date(),
      },
      {
        respond: (versions) => {
          const answer = command.answer({ versions });
          return { statusCode: answer.statusCode, body: { ...answer.body, ...(answer.version === undefined ? {} : { version: answer.version }) } };
        },
        ...(key ? { idempotency: { actor: actorKey, key, hash, statusCode: (a: Answered) => a.statusCode, body: (a: Answered) => a.body } } : {}),
        ...(command.alsoInTransaction ? { inTransaction: command.alsoInTransaction } : {}),
        ...(command.maxAttempts === undefined ? {} : { maxAttempts: command.maxAttempts }),
      },
    );
    return send(reply, result.response.statusCode, { ...result.response.body, position: result.lastPosition }, false);
  } catch (err) {
    // A concurrent twin with the same key may have won, and made this attempt fail (as a race on
    // the key, or as the conflict its own events cause, e.g. SLUG_TAKEN): answer what it answered.
    if (key) {
      const first = await findAnswer(store.pool, actorKey, key, hash);
      if (first) return send(reply, first.statusCode, first.body as Record<string, unknown>, true);
    }
    throw err;
  }
}

type Answered = { statusCode: number; body: Record<string, unknown> };

function send(reply: FastifyReply, statusCode: number, body: Record<string, unknown>, replayed: boolean): FastifyReply {
  if (typeof body.version === 'number') reply.header('etag', `"${body.version}"`);
  if (typeof body.position === 'number') reply.header('x-position', String(body.position));
  if (replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(statusCode).send(body);
}
