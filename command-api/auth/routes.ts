import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { App } from '../../core/adapters/http.ts';
import { httpError } from '../../core/adapters/http.ts';
import { readStream } from '../../core/eventing/event-store.ts';
import { decision, type EventStreams } from '../../core/eventing/command-handler.ts';
import { emailClaimDecider, emailClaimStreamId, userDecider, userStreamId } from '../../domain/user/index.ts';
import { answerCommand } from '../answer-command.ts';
import { checkPasswordPolicy, type Passwords } from './passwords.ts';
import { emailAccount, tokenAccount, type CredentialGuard } from './rate-limits.ts';
import type { Sessions } from '../../core/adapters/sessions.ts';
import { insertCredentials, passwordHashOf, replacePassword } from './credentials.ts';
import type { AuthAudit } from './auth-audit.ts';
import { ErrorResponse, CommandAccepted } from '../schemas.ts';
import type { FastifyReply } from 'fastify';

const TokenResponse = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_expires_in: Type.Integer(),
});
const Email = Type.String({ minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });

export async function authRoutes(
  app: App,
  options: { store: EventStreams; sessions: Sessions; passwords: Passwords; guard: CredentialGuard; audit: AuthAudit },
): Promise<void> {
  const { store, sessions, passwords, guard, audit } = options;
  const errors = { 400: ErrorResponse, 401: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse };
  await passwords.ready(); // the first unknown-email login must not pay for the dummy hash
  const limitRegister = guard('register');
  const limitLogin = guard('login');
  const limitRefresh = guard('refresh');
  const limitPasswordChange = guard('password');
  // Tokens must not be kept by a browser or proxy cache.
  const noStore = async (_request: unknown, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  };

  app.post(
    '/api/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        body: Type.Object({ email: Email, password: Password, displayName: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 201: CommandAccepted, ...errors },
      },
      preHandler: async (request) => limitRegister(request, emailAccount(request.body.email)),
    },
    async (request, reply) => {
      const { email, password, displayName } = request.body;
      checkPasswordPolicy(password);
      const userId = randomUUID();
      const now = new Date().toISOString();
      const passwordHash = await passwords.hash(password);
      return answerCommand(store, request, reply, {
        actor: null,
        tenantId: null,
        decisions: [
          decision(emailClaimDecider, emailClaimStreamId(store.emailKey(email)), { type: 'ClaimEmail', data: { email, userId } }),
          decision(userDecider, userStreamId(userId), { type: 'RegisterUser', data: { userId, email, displayName, now } }),
        ],
        // The hash lives beside the events, never in them: the log is public to audit consumers.
        alsoInTransaction: async (tx) => {
          await insertCredentials(tx, userId, passwordHash);
        },
        answer: (result) => ({ statusCode: 201, body: { id: userId }, version: result.versions[userStreamId(userId)] ?? 1 }),
      });
    },
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange email and password for tokens',
        body: Type.Object({ email: Email, password: Password }, { additionalProperties: false }),
        response: { 200: TokenResponse, ...errors },
      },
      onRequest: noStore,
      preHandler: async (request) => limitLogin(request, emailAccount(request.body.email)),
    },
    async (request) => {
      const { email, password } = request.body;
      const claim = (await readStream(store.pool, emailClaimStreamId(store.emailKey(email))))[0];
      const userId = claim ? (claim.data as { userId: string }).userId : null;
      const hash = userId === null ? null : await passwordHashOf(store.pool, userId);
      const ok = await passwords.verify(password, hash);
      if (!ok || userId === null) {
        await audit.loginFailed(request, email, userId);
        throw httpError(401, 'INVALID_CREDENTIALS', 'email or password is wrong');
      }
      const sessionId = randomUUID();
      return audit.loginSucceeded(request, userId, sessionId, (tx) => sessions.start(tx, userId, sessionId));
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Rotate a refresh token',
        body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: TokenResponse, ...errors },
      },
      onRequest: noStore,
      preHandler: async (request) => limitRefresh(request, tokenAccount(request.body.refresh_token)),
    },
    async (request) => sessions.refresh(request.body.refresh_token, (userId, sessionId) => audit.refreshTokenReused(request, userId, sessionId)),
  );

  app.post(
    '/api/auth/logout',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['auth'],
        summary: 'End this session: its access and refresh tokens stop working everywhere',
        security: [{ bearer: [] }],
        response: { 204: Type.Null(), 401: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { userId, sessionId } = request.actor;
      // Revoked first, on its own (as before): the session ends even if recording it fails.
      await store.pool.transaction((tx) => sessions.revoke(tx, sessionId, 'logout'));
      await audit.loggedOut(request, userId, sessionId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/auth/password',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['auth'],
        summary: 'Change the password; every other session of the user ends',
        security: [{ bearer: [] }],
        body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
        response: { 200: CommandAccepted, ...errors },
      },
      preHandler: async (request) => limitPasswordChange(request, request.actor.userId),
    },
    async (request, reply) => {
      const { userId, sessionId } = request.actor;
      const hash = await passwordHashOf(store.pool, userId);
      if (!(await passwords.verify(request.body.currentPassword, hash))) {
        throw httpError(401, 'INVALID_CREDENTIALS', 'the current password is wrong');
      }
      checkPasswordPolicy(request.body.newPassword);
      const newHash = await passwords.hash(request.body.newPassword);
      return answerCommand(store, request, reply, {
        actor: userId,
        tenantId: null,
        decisions: [
          decision(userDecider, userStreamId(userId), {
            type: 'ChangePassword',
            data: { userId, actorId: userId, client: audit.client(request), now: new Date().toISOString() },
          }),
        ],
        alsoInTransaction: async (tx) => {
          await replacePassword(tx, userId, newHash);
          await sessions.revokeOthers(tx, userId, sessionId);
        },
        answer: (result) => ({ statusCode: 200, body: { id: userId }, version: result.versions[userStreamId(userId)] }),
      });
    },
  );
}
