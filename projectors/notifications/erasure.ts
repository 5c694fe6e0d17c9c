import { Type } from 'typebox';
import { rowSchema, sql, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import type { SubjectErased, TenantContentErased } from '../../domain/erasure/index.ts';
import type { TenantDeleted } from '../../domain/tenant/index.ts';
import { ERASED } from '../../domain/shared/personal-data.ts';
import { emailMessageId, type Handler } from './projection.ts';
import { notificationMessage, renderEmail, type NotificationData } from './templates.ts';

const Rendered = rowSchema(
  Type.Object({ notification_id: Type.String(), data: Type.Unsafe<NotificationData>({}), recipient_name: Type.Union([Type.String(), Type.Null()]) }),
);

/**
 * Re-renders the notifications `which` selects (and their emails still in the outbox) with
 * `scrub` applied to their data: what a rebuild from the log, with the keys gone, would write.
 */
async function rerender(
  tx: DatabaseTransactionConnection,
  which: ReturnType<typeof sql.fragment>,
  scrub: (data: NotificationData) => NotificationData,
): Promise<void> {
  const rows = await tx.any(sql.type(Rendered)`
    select n.notification_id, n.data, u.display_name as recipient_name
    from notifications n join events e on e.global_position = n.position
    left join notification_users u on u.user_id = n.user_id
    where ${which}`);
  for (const row of rows) {
    const data = scrub(row.data);
    await tx.query(sql.unsafe`
      update notifications set data = ${sql.jsonb(data)}, message = ${notificationMessage(data)} where notification_id = ${row.notification_id}`);
    const email = renderEmail(data, row.recipient_name ?? ERASED);
    await tx.query(sql.unsafe`
      update email_outbox set subject = ${email.subject}, text_body = ${email.text}, html_body = ${email.html}, message_id = ${emailMessageId(row.notification_id)}
      where notification_id = ${row.notification_id}`);
  }
}

// Not projection.ts's `on`: that module imports this one, and a const is not there yet at load.
const on =
  <T>(handle: (tx: DatabaseTransactionConnection, data: T) => Promise<void>): Handler =>
  (tx, event) =>
    handle(tx, event.data as T);

const byErased = (data: NotificationData): NotificationData => (data.by === null ? data : { ...data, by: ERASED });
const contentErased = (data: NotificationData): NotificationData => (data.kind === 'document-uploaded' ? { ...data, title: ERASED, filename: ERASED } : data);

export const erasureHandlers: Record<'SubjectErased' | 'TenantContentErased' | 'TenantDeleted', Handler> = {
  SubjectErased: on<SubjectErased['data']>(async (tx, d) => {
    const inTenant = d.tenantId === null ? sql.fragment`true` : sql.fragment`n.tenant_id = ${d.tenantId}`;
    // The erased user's name in what others were told about them.
    await rerender(tx, sql.fragment`${inTenant} and (e.actor = ${d.userId} or e.data->>'ownerId' = ${d.userId})`, byErased);
    if (d.tenantId !== null) return;
    // Their own inbox and mail go with the account.
    await tx.query(sql.unsafe`delete from email_outbox where notification_id in (select notification_id from notifications where user_id = ${d.userId})`);
    await tx.query(sql.unsafe`delete from notifications where user_id = ${d.userId}`);
    await tx.query(sql.unsafe`update notification_users set email = ${ERASED}, display_name = ${ERASED} where user_id = ${d.userId}`);
  }),
  TenantContentErased: on<TenantContentErased['data']>(async (tx, d) => {
    await rerender(tx, sql.fragment`n.tenant_id = ${d.tenantId} and n.kind = 'document-uploaded' and e.data->>'ownerId' = ${d.userId}`, contentErased);
  }),
  TenantDeleted: on<TenantDeleted['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`update notification_tenants set name = ${ERASED} where tenant_id = ${d.tenantId}`);
    await rerender(tx, sql.fragment`n.tenant_id = ${d.tenantId}`, (data) => contentErased({ ...data, tenantName: ERASED }));
  }),
};
