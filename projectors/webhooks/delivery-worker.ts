import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { Webhook } from 'standardwebhooks';
import { rowSchema, sql } from '../../core/adapters/db.ts';
import { decision, executeCommand, type EventStreams } from '../../core/eventing/command-handler.ts';
import type { Config } from '../../core/adapters/config.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import type { Metrics } from '../../core/adapters/metrics.ts';
import { allowedClasses } from '../../core/adapters/outbound-address.ts';
import { createWebhookSecretQueries } from '../../core/adapters/webhook-secrets.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import { webhookDecider, webhookStreamId } from '../../domain/webhook/index.ts';
import { createSender, type SendOutcome } from './send.ts';

export const WORKER_ACTOR = 'system:webhooks';

const HeadRow = rowSchema(Type.Object({ webhook_id: Type.String(), event_id: Type.String(), tenant_id: Type.String() }));
const Claimed = Type.Object({
  webhook_id: Type.String(),
  event_id: Type.String(),
  tenant_id: Type.String(),
  message_id: Type.String(),
  event_type: Type.String(),
  body: Type.String(),
  attempts: Type.Number(),
  url: Type.String(),
  window_ends_at: Type.String(),
});
type Claimed = Static<typeof Claimed>;
const ClaimedRow = rowSchema(Claimed);

export type RetryPolicy = { firstDelayMs: number; maxDelayMs: number; windowMs: number };

/** Exponential back-off with equal jitter: half the doubled delay, plus up to as much at random. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(policy.firstDelayMs * 2 ** Math.min(attempt - 1, 40), policy.maxDelayMs);
  return Math.round(base / 2 + random() * (base / 2));
}

export type DeliveryWorker = { stop: () => Promise<void>; tick: () => Promise<void>; inFlight: () => number };

/**
 * Sends recorded deliveries. Per subscription only the oldest pending delivery is eligible (its
 * order is the tenant's event order), and only once its retry is due; slots are bounded overall
 * (WEBHOOK_CONCURRENCY) and per tenant (WEBHOOK_TENANT_CONCURRENCY), so a slow or dead receiver
 * holds at most its own subscription and a share of its own tenant's slots. A lease on the row
 * keeps two workers off the same delivery; an expired lease (a crashed worker) is taken over,
 * which may send a message twice: delivery is at least once, and webhook-id lets receivers dedupe.
 */
export function startDeliveryWorker(options: { store: EventStreams; config: Config; logger: Logger; metrics: Metrics }): DeliveryWorker {
  const { store, config, logger, metrics } = options;
  const { pool } = store;
  const sender = createSender({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowed: allowedClasses(config.WEBHOOK_ALLOW_PRIVATE) });
  const secrets = createWebhookSecretQueries(pool);
  const policy: RetryPolicy = {
    firstDelayMs: config.WEBHOOK_RETRY_FIRST_DELAY_MS,
    maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
    windowMs: config.WEBHOOK_RETRY_WINDOW_MS,
  };
  const leaseMs = config.WEBHOOK_TIMEOUT_MS + 30_000;
  const inFlight = new Map<string, { tenantId: string; done: Promise<void> }>();
  const stopping = new AbortController();
  const attempts = metrics.counter('webhook_attempts_total', 'Webhook delivery attempts by outcome');
  const duration = metrics.histogram('webhook_attempt_duration_seconds', 'Webhook delivery attempt duration');
  const busy = metrics.gauge('webhook_deliveries_in_flight', 'Webhook deliveries being sent');
  let ticking: Promise<void> | null = null;
  let again = false;

  async function claimDue(): Promise<void> {
    const free = config.WEBHOOK_CONCURRENCY - inFlight.size;
    if (free <= 0) return;
    const perTenant = new Map<string, number>();
    for (const { tenantId } of inFlight.values()) perTenant.set(tenantId, (perTenant.get(tenantId) ?? 0) + 1);
    const heads = await pool.any(sql.type(HeadRow)`
      with heads as (
        select distinct on (d.webhook_id) d.webhook_id, d.event_id, d.tenant_id, d.next_attempt_at, d.lease_until
        from webhook_deliveries d where d.status = 'pending' order by d.webhook_id, d.global_position)
      select h.webhook_id, h.event_id, h.tenant_id from heads h join webhooks w using (webhook_id)
      where w.enabled and h.next_attempt_at <= now() and (h.lease_until is null or h.lease_until < now())
        and not (h.webhook_id = any(${sql.array([...inFlight.keys()], 'uuid')}))
      order by h.next_attempt_at limit ${free * 4}`);
    let started = 0;
    for (const head of heads) {
      if (started >= free) break;
      const tenantSlots = perTenant.get(head.tenant_id) ?? 0;
      if (tenantSlots >= config.WEBHOOK_TENANT_CONCURRENCY) continue;
      const claimed = await claim(head.webhook_id, head.event_id);
      if (!claimed) continue;
      perTenant.set(head.tenant_id, tenantSlots + 1);
      started += 1;
      const done = attempt(claimed)
        .catch((err: unknown) => {
          logger.error(
            { err, webhookId: claimed.webhook_id, eventId: claimed.event_id },
            'delivery attempt failed to record; the lease expires and it is retried',
          );
        })
        .finally(() => {
          inFlight.delete(claimed.webhook_id);
          busy.set(inFlight.size);
          wake();
        });
      inFlight.set(claimed.webhook_id, { tenantId: head.tenant_id, done });
      busy.set(inFlight.size);
    }
  }

  async function claim(webhookId: string, eventId: string): Promise<Claimed | null> {
    return pool.maybeOne(sql.type(ClaimedRow)`
      update webhook_deliveries d set lease_until = now() + ${`${leaseMs} milliseconds`}::interval, attempts = d.attempts + 1,
        first_attempt_at = coalesce(d.first_attempt_at, now())
      from webhooks w
      where d.webhook_id = ${webhookId} and d.event_id = ${eventId} and w.webhook_id = d.webhook_id and w.enabled
        and d.status = 'pending' and (d.lease_until is null or d.lease_until < now())
      returning d.webhook_id, d.event_id, d.tenant_id, d.message_id, d.event_type, d.body, d.attempts, w.url,
        to_json(coalesce(d.first_attempt_at, now()) + ${`${policy.windowMs} milliseconds`}::interval)#>>'{}' as window_ends_at`);
  }

  /**
   * The receiver is the tenant's own system: it gets the personal fields opened, as the read
   * models show them (or erased, once their key is gone). The stored body keeps the ciphertext,
   * so an erasure leaves nothing readable in webhook_deliveries.
   */
  async function openedBody(stored: string): Promise<string> {
    const envelope = JSON.parse(stored) as { type: string; data: unknown };
    const [opened] = await openEvents(pool, [{ type: envelope.type, data: envelope.data }]);
    return JSON.stringify({ ...envelope, data: opened?.data ?? envelope.data });
  }

  async function attempt(delivery: Claimed): Promise<void> {
    const signing = await secrets.signing(delivery.webhook_id);
    const body = await openedBody(delivery.body);
    const timestamp = new Date();
    // During a rotation's overlap both secrets sign: "v1,<new> v1,<old>" (Standard Webhooks).
    const signature = signing.map((secret) => new Webhook(secret).sign(delivery.message_id, timestamp, body)).join(' ');
    const outcome: SendOutcome =
      signing.length === 0
        ? { ok: false, statusCode: null, durationMs: 0, error: 'no signing secret', responseBody: null }
        : await sender.post(
            delivery.url,
            {
              'webhook-id': delivery.message_id,
              'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
              'webhook-signature': signature,
            },
            body,
            stopping.signal,
          );
    if (stopping.signal.aborted && !outcome.ok) return; // the lease expires and a worker tries again
    const retryAt = new Date(Date.now() + retryDelayMs(policy, delivery.attempts));
    const givenUp = !outcome.ok && retryAt.getTime() > Date.parse(delivery.window_ends_at);
    const result = outcome.ok ? 'delivered' : givenUp ? 'failed' : 'retrying';
    attempts.inc(1, { outcome: result });
    duration.observe(outcome.durationMs / 1000);
    await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`
        insert into webhook_attempts (webhook_id, event_id, message_id, event_type, attempt, outcome, status_code, duration_ms, error, response_body)
        values (${delivery.webhook_id}, ${delivery.event_id}, ${delivery.message_id}, ${delivery.event_type}, ${delivery.attempts}, ${result},
                ${outcome.statusCode}, ${outcome.durationMs}, ${outcome.error}, ${outcome.responseBody})`);
      await tx.query(sql.unsafe`
        update webhook_deliveries set lease_until = null,
          status = ${result === 'retrying' ? 'pending' : result},
          next_attempt_at = ${retryAt.toISOString()},
          finished_at = ${result === 'retrying' ? null : sql.timestamp(new Date())}
        where webhook_id = ${delivery.webhook_id} and event_id = ${delivery.event_id}`);
    });
    if (result === 'failed') {
      logger.warn(
        { webhookId: delivery.webhook_id, eventId: delivery.event_id, attempts: delivery.attempts, error: outcome.error },
        'webhook delivery given up',
      );
      await disableAfterRunOfFailures(delivery);
    }
  }

  /** The last N finished deliveries all given up: the subscription is disabled through the command path. */
  async function disableAfterRunOfFailures(delivery: Claimed): Promise<void> {
    const limit = config.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES;
    const statuses = await pool.anyFirst(sql.unsafe`
      select status from webhook_deliveries where webhook_id = ${delivery.webhook_id} and status in ('delivered', 'failed')
      order by global_position desc limit ${limit}`);
    if (statuses.length < limit || statuses.some((status) => status !== 'failed')) return;
    await executeCommand(
      store,
      [
        decision(webhookDecider, webhookStreamId(delivery.webhook_id), {
          type: 'DisableFailingWebhook',
          data: { tenantId: delivery.tenant_id, failedDeliveries: limit, actor: WORKER_ACTOR, now: new Date().toISOString() },
        }),
      ],
      { tenantId: delivery.tenant_id, actor: WORKER_ACTOR, correlationId: randomUUID(), causationId: delivery.event_id, occurredAt: new Date() },
      {
        respond: () => undefined,
        // With the event, not once it is projected: this worker would otherwise send the next one meanwhile.
        inTransaction: async (tx) => {
          await tx.query(sql.unsafe`
          update webhook_deliveries set status = 'cancelled', finished_at = now() where webhook_id = ${delivery.webhook_id} and status = 'pending'`);
        },
      },
    );
    logger.warn({ webhookId: delivery.webhook_id, failedDeliveries: limit }, 'webhook disabled after a run of failed deliveries');
  }

  function wake(): void {
    if (stopping.signal.aborted) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = claimDue()
      .catch((err: unknown) => {
        logger.error({ err }, 'claiming webhook deliveries failed; retried at the next tick');
      })
      .finally(() => {
        ticking = null;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  const timer = setInterval(wake, config.WEBHOOK_POLL_INTERVAL_MS);
  wake();
  return {
    inFlight: () => inFlight.size,
    async tick() {
      wake();
      await ticking;
    },
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await ticking;
      await Promise.allSettled([...inFlight.values()].map((entry) => entry.done));
      sender.close();
    },
  };
}
