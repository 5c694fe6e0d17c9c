import pg from 'pg';
import { sql, type DatabasePool } from '../adapters/db.ts';
import type { EventLogProducer, LogMessage } from '../adapters/kafka.ts';
import type { Logger } from '../adapters/logger.ts';
import { readUnpublished } from './event-store.ts';
import { failpoint } from '../adapters/failpoints.ts';
import type { Metrics } from '../adapters/metrics.ts';

// Lock id shared by every process that can take the relay role: only the holder publishes.
const RELAY_LOCK = 'ledgerline.relay';
const FULL_READ_INTERVAL_MS = 1000;

export type Relay = { publishPending: () => Promise<number>; stop: () => Promise<void>; isLeader: () => boolean };

/**
 * Publishes outbox rows to Kafka in global-position order and marks them sent.
 * A transaction that commits late is never skipped: appends draw positions under a lock held
 * until commit (core/eventing/event-store.ts), so once a row is visible every lower position is
 * visible or rolled back, and rows are marked one by one, never by a high-water mark. (A
 * `transaction_id < pg_snapshot_xmin` filter would add nothing to that, and would stall every
 * relay behind any long transaction anywhere on the server: the snapshot's xmin is cluster-wide.)
 * A crash between send and mark re-sends the rows: consumers absorb duplicates by position.
 * A Kafka outage leaves rows pending and the loop retries with back-off, in the same order.
 *
 * By the same lock, no row at or below a position the relay has marked can still commit, so it
 * reads after the highest position it marked, and from the beginning only once a second (for a
 * writer that bypassed the lock, whose late row is then published within that second). Marked
 * rows leave dead entries in the pending index until vacuum, and every read from the beginning
 * walked them all: under command load, 15,000 entries and 440 heap pages to find 50 rows, 6.5 of
 * the read's 7.2 ms.
 */
export function startRelay(options: {
  pool: DatabasePool;
  connectionUri: string;
  producer: EventLogProducer;
  logger: Logger;
  metrics: Metrics;
  batchSize?: number;
  pollIntervalMs?: number;
}): Relay {
  const { pool, producer, logger, metrics } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  let stopped = false;
  let leader = false;
  // The highest position this relay has published and marked, and when it last read from the
  // beginning (see above).
  let marked = 0;
  let sweptAt = 0;
  let wake: () => void = () => {};
  let lockClient: pg.Client | undefined;
  const published = metrics.counter('relay_events_published_total', 'Events published to Kafka by the relay');
  const failures = metrics.counter('relay_publish_failures_total', 'Failed publish attempts (retried)');
  const lag = metrics.gauge('relay_pending_events', 'Outbox rows not yet published');

  async function publishPending(): Promise<number> {
    const sweep = Date.now() - sweptAt >= FULL_READ_INTERVAL_MS;
    if (sweep) sweptAt = Date.now();
    const rows = await readUnpublished(pool, batchSize, sweep ? 0 : marked);
    if (rows.length === 0) return 0;
    // One send per topic keeps position order within each partition.
    const byTopic = new Map<string, LogMessage[]>();
    for (const { topic, key, event } of rows) {
      const messages = byTopic.get(topic) ?? [];
      messages.push({
        key,
        value: JSON.stringify(event),
        headers: {
          'event-type': event.type,
          'schema-version': String(event.schemaVersion),
          'event-id': event.eventId,
          'global-position': String(event.globalPosition),
          ...(event.tenantId ? { 'tenant-id': event.tenantId } : {}),
        },
      });
      byTopic.set(topic, messages);
    }
    for (const [topic, messages] of byTopic) await producer.publish(topic, messages);
    failpoint('relay-after-send');
    await pool.query(sql.unsafe`
      update outbox set published_at = now()
      where global_position = any(${sql.array(
        rows.map((r) => r.event.globalPosition),
        'int8',
      )})`);
    published.inc(rows.length);
    marked = Math.max(marked, rows.at(-1)!.event.globalPosition);
    return rows.length;
  }

  async function holdLeadership(): Promise<void> {
    while (!stopped) {
      try {
        lockClient = new pg.Client({ connectionString: options.connectionUri });
        lockClient.on('error', (err) => logger.warn({ err }, 'relay lock connection error'));
        await lockClient.connect();
        while (!stopped) {
          const { rows } = await lockClient.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [RELAY_LOCK]);
          if (rows[0]?.ok) break;
          await sleep(1000);
        }
        if (stopped) return;
        leader = true;
        marked = 0;
        sweptAt = 0;
        logger.info('relay leadership acquired');
        await lockClient.query('listen ledgerline_outbox');
        lockClient.on('notification', () => wake());
        await runLoop(lockClient);
      } catch (err) {
        if (!stopped) logger.warn({ err }, 'relay lost its database connection; re-electing');
      } finally {
        leader = false;
        await lockClient?.end().catch(() => {});
      }
      if (!stopped) await sleep(1000);
    }
  }

  async function runLoop(client: pg.Client): Promise<void> {
    let backoff = 100;
    let broken = false;
    client.on('end', () => {
      broken = true;
      wake();
    });
    while (!stopped && !broken) {
      try {
        const sent = await publishPending();
        backoff = 100;
        if (sent > 0) continue;
        lag.set(Number(await pool.oneFirst(sql.unsafe`select count(*) from outbox where published_at is null and global_position > ${marked}`)));
      } catch (err) {
        failures.inc();
        logger.warn({ err, retryInMs: backoff }, 'relay publish failed; will retry the same rows');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (broken) throw new Error('relay lock connection ended');
  }

  const running = holdLeadership();
  return {
    publishPending,
    isLeader: () => leader,
    async stop() {
      stopped = true;
      wake();
      await lockClient?.end().catch(() => {});
      await running;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
