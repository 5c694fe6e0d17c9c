import { Type, type Static } from 'typebox';
import { rowSchema, sql, type DatabasePool } from '../../core/adapters/db.ts';
import { NOTIFICATION_KINDS, NOTIFICATION_SOURCE_EVENTS, type NotificationKind } from '../../domain/notification-inbox/index.ts';

const NotificationRow = Type.Object({
  notification_id: Type.String(),
  kind: Type.String(),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  data: Type.Unknown(),
  position: Type.Number(),
  created_at: Type.String(),
  read_at: Type.Union([Type.String(), Type.Null()]),
});
export type NotificationRecord = Static<typeof NotificationRow>;
const notificationRow = rowSchema(NotificationRow);

/** The notifications read model (projectors/notifications), seen from the query API: reads only. */
export function createNotificationQueries(pool: DatabasePool) {
  return {
    /** One page of a user's notifications, newest first, after the keyset (position, id) of the last page. */
    async page(
      userId: string,
      options: { limit: number; unreadOnly: boolean; after?: { position: number; id: string } },
    ): Promise<readonly NotificationRecord[]> {
      const unread = options.unreadOnly ? sql.fragment`and read_at is null` : sql.fragment``;
      const after = options.after ? sql.fragment`and (position, notification_id) < (${options.after.position}, ${options.after.id})` : sql.fragment``;
      return pool.any(sql.type(notificationRow)`
        select notification_id, kind, tenant_id, message, data, position,
          to_json(created_at)#>>'{}' as created_at, to_json(read_at)#>>'{}' as read_at
        from notifications where user_id = ${userId} ${unread} ${after}
        order by position desc, notification_id desc limit ${options.limit}`);
    },
    async unreadCount(userId: string): Promise<number> {
      return Number(await pool.oneFirst(sql.unsafe`select count(*) from notifications where user_id = ${userId} and read_at is null`));
    },
    /** Email on/off for every kind (on unless the user turned it off). */
    async emailPreferences(userId: string): Promise<Record<NotificationKind, boolean>> {
      const off = await pool.maybeOneFirst(sql.unsafe`select email_off from notification_preferences where user_id = ${userId}`);
      const offKinds = new Set(Array.isArray(off) ? off.map(String) : []);
      return Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, !offKinds.has(kind)])) as Record<NotificationKind, boolean>;
    },
    /** The last position at or below `position` that the notifications read model is made of. */
    async lastSourcePositionAtOrBelow(position: number): Promise<number> {
      return Number(
        await pool.oneFirst(sql.unsafe`
        select coalesce(max(global_position), 0) from events
        where type = any(${sql.array([...NOTIFICATION_SOURCE_EVENTS], 'text')}) and global_position <= ${position}`),
      );
    },
  };
}
export type NotificationQueries = ReturnType<typeof createNotificationQueries>;
