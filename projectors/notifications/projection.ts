import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import { rowSchema, sql, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readEventsOfTypes, type StoredEvent } from '../../core/eventing/event-store.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import { BACKGROUND_GATHER_MS, singleScopeProjection, type Projection } from '../../core/eventing/projector.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { MemberAdded, MemberRemoved, MemberRoleChanged } from '../../domain/membership/index.ts';
import type { DocumentCreated } from '../../domain/document/index.ts';
import type { TenantCreated, TenantRenamed } from '../../domain/tenant/index.ts';
import type { UserProfileUpdated, UserRegistered } from '../../domain/user/index.ts';
import {
  NOTIFICATION_SOURCE_EVENTS,
  type NotificationPreferencesChanged,
  type NotificationsRead,
  type NotificationSourceEvent,
} from '../../domain/notification-inbox/index.ts';
import { notificationMessage, renderEmail, type NotificationData } from './templates.ts';
import { erasureHandlers } from './erasure.ts';

export const NOTIFICATIONS_SCOPE = 'notifications';

/**
 * WebhookDisabled as the webhooks aggregate publishes it (tenant-scoped envelope): reason
 * 'failures' (by the delivery worker, with failedDeliveries) or 'admin' (disabledBy a user).
 */
type WebhookDisabled = { webhookId: string; reason: string; tenantId?: string; failedDeliveries?: number; disabledBy?: string };

/**
 * In-app notifications and the email outbox, in the main database, from every topic (the
 * webhooks' events may live on a topic of their own). One scope: the events are applied in
 * global order, so "admins of the tenant" or "email off for this kind" is what it was at that
 * point of the log, on every replay.
 */
export function notificationsProjection(pool: DatabasePool, topics: Topics): Projection {
  const types = new Set<string>(NOTIFICATION_SOURCE_EVENTS);
  return singleScopeProjection({
    name: NOTIFICATIONS_SCOPE,
    pool,
    topics: Object.values(topics),
    accepts: (event) => types.has(event.type),
    gatherMs: BACKGROUND_GATHER_MS,
    load: async (after, upTo, limit, tx) => openEvents(tx, await readEventsOfTypes(tx, NOTIFICATION_SOURCE_EVENTS, { after, upTo, limit })),
    apply: (tx, event) => handlers[event.type as NotificationSourceEvent](tx, event),
  });
}

export type Handler = (tx: DatabaseTransactionConnection, event: StoredEvent) => Promise<void>;
const on =
  <T>(handle: (tx: DatabaseTransactionConnection, data: T, event: StoredEvent) => Promise<void>): Handler =>
  (tx, event) =>
    handle(tx, event.data as T, event);

const handlers: Record<NotificationSourceEvent, Handler> = {
  UserRegistered: on<UserRegistered['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`
      insert into notification_users (user_id, email, display_name) values (${d.userId}, ${d.email}, ${d.displayName})
      on conflict (user_id) do nothing`);
  }),
  UserProfileUpdated: on<UserProfileUpdated['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`update notification_users set display_name = ${d.displayName} where user_id = ${d.userId}`);
  }),
  TenantCreated: on<TenantCreated['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`insert into notification_tenants (tenant_id, name) values (${d.tenantId}, ${d.name}) on conflict do nothing`);
  }),
  TenantRenamed: on<TenantRenamed['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`update notification_tenants set name = ${d.name} where tenant_id = ${d.tenantId}`);
  }),
  MemberAdded: on<MemberAdded['data']>(async (tx, d, event) => {
    await tx.query(sql.unsafe`
      insert into notification_members (tenant_id, user_id, role) values (${d.tenantId}, ${d.userId}, ${d.role})
      on conflict (tenant_id, user_id) do update set role = excluded.role`);
    // The founder adding themselves is no news to them.
    if (d.addedBy === d.userId) return;
    await notify(tx, event, d.userId, {
      kind: 'member-added',
      tenantId: d.tenantId,
      tenantName: await tenantName(tx, d.tenantId),
      role: d.role,
      by: await userName(tx, d.addedBy),
    });
  }),
  MemberRoleChanged: on<MemberRoleChanged['data']>(async (tx, d, event) => {
    await tx.query(sql.unsafe`update notification_members set role = ${d.role} where tenant_id = ${d.tenantId} and user_id = ${d.userId}`);
    if (d.changedBy === d.userId) return;
    await notify(tx, event, d.userId, {
      kind: 'member-role-changed',
      tenantId: d.tenantId,
      tenantName: await tenantName(tx, d.tenantId),
      role: d.role,
      previousRole: d.previousRole,
      by: await userName(tx, d.changedBy),
    });
  }),
  MemberRemoved: on<MemberRemoved['data']>(async (tx, d, event) => {
    await tx.query(sql.unsafe`delete from notification_members where tenant_id = ${d.tenantId} and user_id = ${d.userId}`);
    if (d.removedBy === d.userId) return;
    await notify(tx, event, d.userId, {
      kind: 'member-removed',
      tenantId: d.tenantId,
      tenantName: await tenantName(tx, d.tenantId),
      by: await userName(tx, d.removedBy),
    });
  }),
  DocumentCreated: on<DocumentCreated['data']>(async (tx, d, event) => {
    const data: NotificationData = {
      kind: 'document-uploaded',
      tenantId: d.tenantId,
      tenantName: await tenantName(tx, d.tenantId),
      documentId: d.documentId,
      title: d.title,
      filename: d.filename,
      by: await userName(tx, d.ownerId),
    };
    // The uploader, even an admin, is not told about their own upload.
    for (const admin of await adminsOf(tx, d.tenantId)) if (admin !== d.ownerId) await notify(tx, event, admin, data);
  }),
  WebhookDisabled: on<WebhookDisabled>(async (tx, d, event) => {
    const tenantId = d.tenantId ?? event.tenantId;
    if (!tenantId) return;
    const byUser = d.reason === 'admin' && d.disabledBy ? d.disabledBy : null;
    const data: NotificationData = {
      kind: 'webhook-disabled',
      tenantId,
      tenantName: await tenantName(tx, tenantId),
      webhookId: d.webhookId,
      reason: d.reason,
      failedDeliveries: d.failedDeliveries ?? null,
      by: byUser ? await userName(tx, byUser) : null,
    };
    // An admin who disabled it themselves is not told; the other admins are.
    for (const admin of await adminsOf(tx, tenantId)) if (admin !== byUser) await notify(tx, event, admin, data);
  }),
  NotificationsRead: on<NotificationsRead['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`
      update notifications set read_at = ${d.readAt}
      where user_id = ${d.userId} and read_at is null
        and (notification_id = any(${sql.array(d.notificationIds, 'uuid')}) or position <= ${d.upToPosition ?? 0})`);
  }),
  NotificationPreferencesChanged: on<NotificationPreferencesChanged['data']>(async (tx, d) => {
    await tx.query(sql.unsafe`
      insert into notification_preferences (user_id, email_off) values (${d.userId}, ${sql.array(d.emailOff, 'text')})
      on conflict (user_id) do update set email_off = excluded.email_off`);
  }),
  ...erasureHandlers,
};

/** Stable per (event, recipient): a replay, a rebuild or a second projector instance writes the same row. */
export function notificationId(eventId: string, userId: string): string {
  const hex = createHash('sha256').update(`${eventId}:${userId}`).digest('hex');
  // Shaped as a version-8 (custom) UUID with the RFC 9562 variant bits.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The Message-ID of a notification's email: the same on every (re)send, so mailboxes keep one copy. */
export function emailMessageId(notificationId: string): string {
  return `<${notificationId}@notifications.ledgerline>`;
}

const RecipientRow = rowSchema(Type.Object({ email: Type.String(), display_name: Type.String() }));

async function notify(tx: DatabaseTransactionConnection, event: StoredEvent, userId: string, data: NotificationData): Promise<void> {
  const id = notificationId(event.eventId, userId);
  const message = notificationMessage(data);
  const inserted = await tx.maybeOneFirst(sql.unsafe`
    insert into notifications (notification_id, user_id, position, kind, tenant_id, message, data, created_at)
    values (${id}, ${userId}, ${event.globalPosition}, ${data.kind}, ${data.tenantId}, ${message}, ${sql.jsonb(data)}, ${event.occurredAt})
    on conflict (notification_id) do nothing
    returning notification_id`);
  if (inserted === null) return;
  // Email follows the recipient's preference as it stood at this point of the log.
  const recipient = await tx.maybeOne(sql.type(RecipientRow)`
    select u.email, u.display_name from notification_users u
    where u.user_id = ${userId}
      and not exists (select 1 from notification_preferences p where p.user_id = u.user_id and ${data.kind} = any(p.email_off))`);
  if (recipient === null) return;
  const email = renderEmail(data, recipient.display_name);
  await tx.query(sql.unsafe`
    insert into email_outbox (notification_id, recipient, subject, text_body, html_body, message_id)
    values (${id}, ${recipient.email}, ${email.subject}, ${email.text}, ${email.html}, ${emailMessageId(id)})
    on conflict (notification_id) do nothing`);
}

async function tenantName(tx: DatabaseTransactionConnection, tenantId: string): Promise<string> {
  return String((await tx.maybeOneFirst(sql.unsafe`select name from notification_tenants where tenant_id = ${tenantId}`)) ?? 'a tenant');
}

async function userName(tx: DatabaseTransactionConnection, userId: string): Promise<string> {
  return String((await tx.maybeOneFirst(sql.unsafe`select display_name from notification_users where user_id = ${userId}`)) ?? 'Someone');
}

async function adminsOf(tx: DatabaseTransactionConnection, tenantId: string): Promise<string[]> {
  return (
    await tx.anyFirst(sql.unsafe`
    select user_id from notification_members where tenant_id = ${tenantId} and role = 'admin' order by user_id`)
  ).map(String);
}
