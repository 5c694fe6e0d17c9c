import { randomUUID } from 'node:crypto';
import { sql, type DatabasePool, type DatabaseTransactionConnection } from './db.ts';
import type { StoredEvent } from './event-store.ts';
import type { EventLog } from './kafka.ts';
import type { Logger } from './logger.ts';
import { eventFromMessage } from './upcast.ts';

export type RebuildSpec = {
  /** Read-model tables rebuilt and swapped in (unqualified names in `db`'s public schema). */
  tables: string[];
  /** The live projection's checkpoint key in `db`'s projection_checkpoints. */
  checkpointKey: string;
  topic: string;
  belongs: (event: StoredEvent) => boolean;
  apply: (tx: DatabaseTransactionConnection, event: StoredEvent) => Promise<void>;
  /** Events after `after` up to `upTo` from the event store: the gap between the log snapshot and the swap. */
  loadAfter: (after: number, upTo: number) => Promise<StoredEvent[]>;
};

export type RebuildResult = { applied: number; position: number; swappedAt: string };

/**
 * Rebuilds a read model from the Kafka log (offset 0 up to the end offsets seen at the start)
 * into fresh tables in a scratch schema, then swaps the rows in inside one transaction that
 * holds the live checkpoint row: the gap since the log snapshot is applied from the event
 * store first, so the swapped-in state is exactly the live one's position. Queries keep
 * running throughout (they read the old rows until the swap commits).
 */
export async function rebuildFromLog(options: { eventLog: EventLog; db: DatabasePool; spec: RebuildSpec; logger: Logger; groupPrefix: string }): Promise<RebuildResult> {
  const { eventLog, db, spec, logger } = options;
  const schema = `rebuild_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const scratch = sql.identifier([schema]);
  await db.query(sql.unsafe`create schema ${scratch}`);
  try {
    for (const table of spec.tables) {
      await db.query(sql.unsafe`create table ${sql.identifier([schema, table])} (like ${sql.identifier(['public', table])} including all)`);
    }
    const ends = await eventLog.endOffsets(spec.topic);
    const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    let position = 0;
    const lastInPartition = new Map<number, number>();
    const appliedPositions = new Set<number>();
    let applied = 0;
    let read = 0;
    const remaining = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
    if (remaining.size > 0) {
      await new Promise<void>((resolve, reject) => {
        let lastReport = 0;
        const subscription = eventLog.subscribe({
          groupId: `${options.groupPrefix}ledgerline.rebuild.${schema}`, topics: [spec.topic], fromBeginning: true, onCrash: reject,
          onBatch: async (batch) => {
            const high = remaining.get(batch.partition);
            const messages = batch.messages.filter((m) => high !== undefined && Number(m.offset) < high);
            await db.transaction(async (tx) => {
              await tx.query(sql.unsafe`set local search_path to ${scratch}, public`);
              for (const message of messages) {
                read += 1;
                if (!message.value) continue;
                const event = eventFromMessage(message.value);
                // The relay may have sent an event twice: positions only grow within a partition,
                // so anything at or below the partition's last one is a re-send.
                const last = lastInPartition.get(batch.partition) ?? 0;
                if (event.globalPosition <= last) continue;
                lastInPartition.set(batch.partition, event.globalPosition);
                position = Math.max(position, event.globalPosition);
                if (!spec.belongs(event)) continue;
                await spec.apply(tx, event);
                appliedPositions.add(event.globalPosition);
                applied += 1;
              }
            });
            const last = batch.messages.at(-1);
            if (last) batch.resolveOffset(last.offset);
            if (high !== undefined && last && Number(last.offset) + 1 >= high) remaining.delete(batch.partition);
            if (Date.now() - lastReport > 1000 || remaining.size === 0) {
              lastReport = Date.now();
              logger.info({ read, total, applied, percent: total === 0 ? 100 : Math.round((read / total) * 100) }, 'rebuild progress');
            }
            if (remaining.size === 0) void subscription.then((s) => s.stop()).then(resolve, reject);
          },
        });
        subscription.catch(reject);
      });
    }
    const swappedAt = await db.transaction(async (tx) => {
      await tx.query(sql.unsafe`insert into projection_checkpoints (projection) values (${spec.checkpointKey}) on conflict do nothing`);
      const live = Number(await tx.oneFirst(sql.unsafe`select position from projection_checkpoints where projection = ${spec.checkpointKey} for update`));
      await tx.query(sql.unsafe`set local search_path to ${scratch}, public`);
      // The relay publishes in position order, but the end offsets of a topic's partitions are
      // not one atomic snapshot: an event may be missing from one partition while a later one
      // is in another. Nothing below the lowest partition's last position can be missing, so the
      // store fills in from there whatever the log did not give (partitions hold unrelated keys,
      // so that order across them does not matter).
      const gapFrom = lastInPartition.size < ends.length ? 0 : Math.min(...lastInPartition.values());
      for (const event of await spec.loadAfter(gapFrom, Math.max(live, position))) {
        if (appliedPositions.has(event.globalPosition)) continue;
        await spec.apply(tx, event);
        applied += 1;
      }
      position = Math.max(position, live);
      await tx.query(sql.unsafe`set local search_path to public`);
      for (const table of spec.tables) {
        await tx.query(sql.unsafe`delete from ${sql.identifier(['public', table])}`);
        await tx.query(sql.unsafe`insert into ${sql.identifier(['public', table])} select * from ${sql.identifier([schema, table])}`);
      }
      await tx.query(sql.unsafe`update projection_checkpoints set position = ${position}, updated_at = now() where projection = ${spec.checkpointKey}`);
      return new Date().toISOString();
    });
    logger.info({ applied, position }, 'rebuild swapped in');
    return { applied, position, swappedAt };
  } finally {
    await db.query(sql.unsafe`drop schema if exists ${scratch} cascade`);
  }
}
