import { Type } from 'typebox';
import { ErrorResponse, httpError, type App } from '../../core/adapters/http.ts';
import type { Freshness } from '../freshness.ts';
import type { NotificationQueries } from './queries.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 504: ErrorResponse };
const secured = { security: [{ bearer: [] }] };
const SCOPE = 'notifications';

const Notification = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  message: Type.String({ description: 'plain text; user-provided parts are not HTML-escaped here, so render it as text' }),
  data: Type.Unknown(),
  position: Type.Integer({ description: 'send as upToPosition to mark this and everything older read' }),
  createdAt: Type.String(),
  read: Type.Boolean(),
  readAt: Type.Union([Type.String(), Type.Null()]),
});
const on = () => Type.Boolean();
const EmailSettings = Type.Object({
  'member-added': on(),
  'member-role-changed': on(),
  'member-removed': on(),
  'document-uploaded': on(),
  'webhook-disabled': on(),
});

/** A keyset cursor over (position, id): stable while new notifications arrive on top. */
function encodeCursor(position: number, id: string): string {
  return Buffer.from(JSON.stringify([position, id])).toString('base64url');
}
function decodeCursor(cursor: string): { position: number; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(parsed) && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === 'string' && /^[0-9a-f-]{36}$/.test(parsed[1])) {
      return { position: parsed[0] as number, id: parsed[1] };
    }
  } catch {
    /* falls through to the 400 */
  }
  throw httpError(400, 'INVALID_CURSOR', 'the cursor is not one this API issued');
}

/** The caller's own notifications and email settings; the user comes from the token only. */
export async function notificationQueryRoutes(app: App, options: { queries: NotificationQueries; freshness: Freshness }): Promise<void> {
  const { queries, freshness } = options;
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/api/users/me/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "The caller's notifications, newest first, paged with a cursor",
        ...secured,
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            unread: Type.Boolean({ default: false, description: 'only those not read yet' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Notification), nextCursor: Type.Union([Type.String(), Type.Null()]), unreadCount: Type.Integer() }),
          ...errors,
        },
      },
    },
    async (request) => {
      await freshness.checkpoint(request, SCOPE, queries.lastSourcePositionAtOrBelow);
      const { limit, cursor, unread } = request.query;
      const userId = request.actor.userId;
      const rows = await queries.page(userId, { limit: limit + 1, unreadOnly: unread, ...(cursor ? { after: decodeCursor(cursor) } : {}) });
      const items = rows.slice(0, limit).map((row) => ({
        id: row.notification_id,
        kind: row.kind,
        tenantId: row.tenant_id,
        message: row.message,
        data: row.data,
        position: row.position,
        createdAt: row.created_at,
        read: row.read_at !== null,
        readAt: row.read_at,
      }));
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.position, last.id) : null, unreadCount: await queries.unreadCount(userId) };
    },
  );

  app.get(
    '/api/users/me/notification-preferences',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Which kinds of notification the caller also gets by email',
        ...secured,
        response: { 200: Type.Object({ email: EmailSettings }), ...errors },
      },
    },
    async (request) => {
      await freshness.checkpoint(request, SCOPE, queries.lastSourcePositionAtOrBelow);
      return { email: await queries.emailPreferences(request.actor.userId) };
    },
  );
}
