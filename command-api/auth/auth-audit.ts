import type { FastifyRequest } from 'fastify';
import { decision, executeCommand, type EventStreams } from '../../core/eventing/command-handler.ts';
import type { DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import type { Config } from '../../core/adapters/config.ts';
import { emailKeyFrom } from '../../core/eventing/email-key.ts';
import { anonymousAuthStreamId, authActivityDecider, authActivityStreamId, clientInfo, type AuthActivityCommand } from '../../domain/index.ts';

/**
 * Records authentication outcomes on the log, through the one command path, on the user's
 * auth-activity stream (expectedVersion 'any': an append-only record, never folded). An email
 * no user has is recorded only as a keyed pseudonym (HMAC-SHA-256 of the normalised address),
 * so repeated attempts on one address can be told apart without the address being on the log.
 */
export function createAuthAudit(store: EventStreams, config: Pick<Config, 'AUDIT_PSEUDONYM_KEY' | 'JWT_SECRET'>) {
  const emailPseudonym = emailKeyFrom(config);
  const client = (request: FastifyRequest) => clientInfo(request.ip, request.headers['user-agent']);

  async function record<T>(
    request: FastifyRequest,
    streamId: string,
    actor: string | null,
    command: AuthActivityCommand,
    alsoInTransaction?: (tx: DatabaseTransactionConnection) => Promise<T>,
  ): Promise<T | undefined> {
    let result: T | undefined;
    await executeCommand(
      store,
      [decision(authActivityDecider, streamId, command, { anyVersion: true })],
      {
        tenantId: null,
        actor,
        correlationId: request.id,
        causationId: null,
        occurredAt: new Date(),
      },
      {
        respond: () => undefined,
        ...(alsoInTransaction
          ? {
              inTransaction: async (tx: DatabaseTransactionConnection) => {
                result = await alsoInTransaction(tx);
              },
            }
          : {}),
      },
    );
    return result;
  }
  const now = () => new Date().toISOString();

  return {
    client,
    /** The session starts in the transaction that records it: no session without its event. */
    async loginSucceeded<T>(
      request: FastifyRequest,
      userId: string,
      sessionId: string,
      startSession: (tx: DatabaseTransactionConnection) => Promise<T>,
    ): Promise<T> {
      return (await record(
        request,
        authActivityStreamId(userId),
        userId,
        {
          type: 'RecordLoginSucceeded',
          data: { userId, sessionId, client: client(request), now: now() },
        },
        startSession,
      )) as T;
    },
    async loginFailed(request: FastifyRequest, email: string, userId: string | null): Promise<void> {
      const pseudonym = userId === null ? emailPseudonym(email) : null;
      const streamId = pseudonym === null ? authActivityStreamId(userId!) : anonymousAuthStreamId(pseudonym);
      await record(request, streamId, null, {
        type: 'RecordLoginFailed',
        data: { userId, emailPseudonym: pseudonym, client: client(request), now: now() },
      });
    },
    async loggedOut(request: FastifyRequest, userId: string, sessionId: string): Promise<void> {
      await record(request, authActivityStreamId(userId), userId, {
        type: 'RecordLogout',
        data: { userId, sessionId, client: client(request), now: now() },
      });
    },
    async refreshTokenReused(request: FastifyRequest, userId: string, sessionId: string): Promise<void> {
      await record(request, authActivityStreamId(userId), null, {
        type: 'RecordRefreshTokenReuse',
        data: { userId, sessionId, client: client(request), now: now() },
      });
    },
  };
}

export type AuthAudit = ReturnType<typeof createAuthAudit>;
