import { Type } from 'typebox';
import type { App } from '../../core/adapters/http.ts';
import { decision, type EventStreams } from '../../core/eventing/command-handler.ts';
import { notificationInboxDecider, notificationInboxStreamId, type NotificationKind } from '../../domain/notification-inbox/index.ts';
import { answerCommand } from '../answer-command.ts';
import { CommandAccepted, ErrorResponse } from '../schemas.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse };
const secured = { security: [{ bearer: [] }] };

const setting = () => Type.Optional(Type.Boolean());
/** One optional switch per kind (NOTIFICATION_KINDS); the unit of a preference change. */
const EmailPreferences = Type.Object(
  {
    'member-added': setting(),
    'member-role-changed': setting(),
    'member-removed': setting(),
    'document-uploaded': setting(),
    'webhook-disabled': setting(),
  },
  { additionalProperties: false, minProperties: 1, description: 'true sends email for that kind, false stops it; kinds left out keep their setting' },
);

/**
 * The caller's own notification inbox (stream notification-inbox-{userId}): read marks and email
 * preferences. The route takes the user from the token only, so nobody writes another's inbox.
 */
export async function notificationRoutes(app: App, options: { store: EventStreams }): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/api/users/me/notifications/read',
    {
      schema: {
        tags: ['notifications'],
        summary: "Mark notifications read: by id, and/or all up to a position (a notification's `position`)",
        ...secured,
        body: Type.Object(
          {
            ids: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 500 })),
            upToPosition: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
          },
          { additionalProperties: false },
        ),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const userId = request.actor.userId;
      return answerCommand(store, request, reply, {
        actor: userId,
        tenantId: null,
        decisions: [
          decision(notificationInboxDecider, notificationInboxStreamId(userId), {
            type: 'MarkNotificationsRead',
            data: { userId, notificationIds: request.body.ids ?? [], upToPosition: request.body.upToPosition ?? null, now: new Date().toISOString() },
          }),
        ],
        answer: (result) => ({ statusCode: 200, body: { id: userId }, version: result.versions[notificationInboxStreamId(userId)] }),
      });
    },
  );

  app.put(
    '/api/users/me/notification-preferences',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Turn email on or off per kind of notification',
        ...secured,
        body: Type.Object({ email: EmailPreferences }, { additionalProperties: false }),
        response: { 200: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const userId = request.actor.userId;
      const email = Object.entries(request.body.email)
        .filter((entry): entry is [NotificationKind, boolean] => typeof entry[1] === 'boolean')
        .map(([kind, enabled]) => ({ kind, enabled }));
      return answerCommand(store, request, reply, {
        actor: userId,
        tenantId: null,
        decisions: [
          decision(notificationInboxDecider, notificationInboxStreamId(userId), {
            type: 'SetNotificationPreferences',
            data: { userId, email, now: new Date().toISOString() },
          }),
        ],
        answer: (result) => ({ statusCode: 200, body: { id: userId }, version: result.versions[notificationInboxStreamId(userId)] }),
      });
    },
  );
}
