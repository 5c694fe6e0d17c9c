import { jsonbParameter, sql, type DatabasePool, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { readTenantScoped, type StoredEvent } from '../../core/eventing/event-store.ts';
import { BACKGROUND_GATHER_MS, singleScopeProjection, type Projection } from '../../core/eventing/projector.ts';
import type { Topics } from '../../core/adapters/kafka.ts';
import type { WebhookEvent } from '../../domain/webhook/index.ts';

export const WEBHOOKS_SCOPE = 'webhooks';

/**
 * What a receiver gets: the public envelope without the plumbing (global position, topic
 * category, correlation and causation ids), in the shape of the Kafka message otherwise.
 */
export function publicEnvelope(event: StoredEvent) {
  return {
    eventId: event.eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    tenantId: event.tenantId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    occurredAt: event.occurredAt,
    actor: event.actor,
    data: event.data,
  };
}

/** Stable across retries, so a receiver drops duplicates: one message per (event, subscription). */
export const messageIdOf = (eventId: string, webhookId: string): string => `msg_${eventId}_${webhookId}`;

/**
 * The subscriptions read model and the delivery outbox, from every tenant-scoped event of both
 * topics in position order: an event is recorded for each subscription of its tenant that is
 * enabled and matches at that position, in the transaction that moves the checkpoint, so a
 * replay records nothing twice and a crash loses nothing.
 */
export function webhookProjection(pool: DatabasePool, topics: Topics): Projection {
  return singleScopeProjection({
    name: WEBHOOKS_SCOPE,
    pool,
    topics: [topics.platform, topics.documents],
    accepts: (event) => Boolean(event.tenantId),
    gatherMs: BACKGROUND_GATHER_MS,
    load: (after, upTo, limit, tx) => readTenantScoped(tx, { after, upTo, limit }),
    // An event goes to the subscriptions enabled at its position: deliveries are recorded in one
    // statement per run of events between two subscription changes, each change applied between.
    applyBatch: async (tx, events) => {
      let run: StoredEvent[] = [];
      for (const event of events) {
        if (changesSubscriptions(event)) {
          await recordDeliveries(tx, run);
          run = [];
          await projectSubscription(tx, event);
        }
        run.push(event);
      }
      await recordDeliveries(tx, run);
    },
  });
}

async function recordDeliveries(tx: DatabaseTransactionConnection, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => ({
    event_id: event.eventId,
    tenant_id: event.tenantId,
    global_position: event.globalPosition,
    event_type: event.type,
    body: JSON.stringify(publicEnvelope(event)),
  }));
  await tx.query(sql.unsafe`
    insert into webhook_deliveries (webhook_id, event_id, tenant_id, global_position, event_type, message_id, body)
    select w.webhook_id, e.event_id, e.tenant_id, e.global_position, e.event_type, 'msg_' || e.event_id::text || '_' || w.webhook_id::text, e.body
    from jsonb_to_recordset(${jsonbParameter(rows)}) as e(event_id uuid, tenant_id uuid, global_position bigint, event_type text, body text)
    join webhooks w on w.tenant_id = e.tenant_id and w.enabled and ('*' = any(w.events) or e.event_type = any(w.events))
    order by e.global_position
    on conflict do nothing`);
}

const changesSubscriptions = (event: StoredEvent): boolean => event.type.startsWith('Webhook');

async function projectSubscription(tx: DatabaseTransactionConnection, stored: StoredEvent): Promise<void> {
  const event = { type: stored.type, data: stored.data } as WebhookEvent;
  const version = stored.streamVersion;
  const at = stored.occurredAt;
  const { webhookId } = event.data;
  switch (event.type) {
    case 'WebhookSubscribed': {
      const { tenantId, url, events, description, secretVersion } = event.data;
      await tx.query(sql.unsafe`
        insert into webhooks (webhook_id, tenant_id, url, events, description, enabled, secret_version, created_at, updated_at, version)
        values (${webhookId}, ${tenantId}, ${url}, ${sql.array(events, 'text')}, ${description}, true, ${secretVersion}, ${at}, ${at}, ${version})
        on conflict (webhook_id) do nothing`);
      return;
    }
    case 'WebhookUpdated': {
      const { url, events, description } = event.data;
      await tx.query(sql.unsafe`
        update webhooks set url = coalesce(${url ?? null}, url),
          events = coalesce(${events ? sql.array(events, 'text') : null}, events),
          description = coalesce(${description ?? null}, description), updated_at = ${at}, version = ${version}
        where webhook_id = ${webhookId} and version < ${version}`);
      return;
    }
    case 'WebhookSecretRotated':
      await tx.query(sql.unsafe`
        update webhooks set secret_version = ${event.data.secretVersion}, updated_at = ${at}, version = ${version}
        where webhook_id = ${webhookId} and version < ${version}`);
      return;
    case 'WebhookEnabled':
      await tx.query(sql.unsafe`
        update webhooks set enabled = true, disabled_reason = null, updated_at = ${at}, version = ${version}
        where webhook_id = ${webhookId} and version < ${version}`);
      return;
    case 'WebhookDisabled':
      await tx.query(sql.unsafe`
        update webhooks set enabled = false, disabled_reason = ${event.data.reason}, updated_at = ${at}, version = ${version}
        where webhook_id = ${webhookId} and version < ${version}`);
      await cancelPending(tx, webhookId);
      return;
    case 'WebhookRemoved':
      await tx.query(sql.unsafe`delete from webhooks where webhook_id = ${webhookId}`);
      await cancelPending(tx, webhookId);
      return;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** A paused or removed subscription gets nothing, not even what was queued before. */
async function cancelPending(tx: DatabaseTransactionConnection, webhookId: string): Promise<void> {
  await tx.query(sql.unsafe`
    update webhook_deliveries set status = 'cancelled', finished_at = now(), lease_until = null
    where webhook_id = ${webhookId} and status = 'pending'`);
}
