import { lockCheckpoint, moveCheckpoint } from './projector.ts';
import { randomUUID } from 'node:crypto';
import { sql, type DatabasePool, type DatabaseTransactionConnection } from '../adapters/db.ts';
import type { StoredEvent } from './event-store.ts';
import { compareTables, type TableDifferences } from './rebuild-compare.ts';
import type { Logger } from '../adapters/logger.ts';

/**
 * Builds a read model from its events in memory or in batches, then writes it into the scratch
 * tables at once: a rebuild never pays one round trip per event.
 */
export type ReadModelBuilder = {
  add: (event: StoredEvent) => void;
  /** Writes what was built; `search_path` is the scratch schema first. */
  flush: (tx: DatabaseTransactionConnection) => Promise<void>;
};

export type RebuildSpec = {
  /** For logs and the run summary: `main`, `audit`, or a tenant id. */
  name: string;
  /** Read-model tables rebuilt and swapped in (unqualified names in `db`'s public schema). */
  tables: string[];
  /** The live projection's checkpoint key in `db`'s projection_checkpoints. */
  checkpointKey: string;
  /** The log this read model comes from: which topics, and for a tenant the one key it lives under. */
  topics: string[];
  key?: string;
  belongs: (event: StoredEvent) => boolean;
  createBuilder: () => ReadModelBuilder;
  /** The live projection's handler: applies the events between the log snapshot and the swap. */
  apply: (tx: DatabaseTransactionConnection, event: StoredEvent) => Promise<void>;
  loadAfter: (after: number, upTo: number) => Promise<StoredEvent[]>;
  /** Runs once the rebuilt rows are swapped in (drops caches of the old ones). */
  afterSwap?: () => Promise<void>;
};

export type RebuildResult = {
  name: string;
  applied: number;
  position: number;
  livePosition: number;
  swappedAt: string | null;
  /** Dry runs only: how the rebuilt rows differ from the live ones (empty when equal). */
  differences?: TableDifferences[];
};

/**
 * One read model being rebuilt: events from the log are fed to it (duplicates dropped by
 * position), then `finish` writes them into fresh tables in a scratch schema and swaps the rows
 * in, inside one transaction that holds the live checkpoint row: the gap since the log snapshot
 * is applied from the event store first, so the swapped-in state is exactly at the live one's
 * position. Queries keep reading the old rows until that commits. A dry run compares instead of
 * swapping and leaves the live rows alone.
 */
export type TargetRebuild = {
  spec: RebuildSpec;
  feed: (event: StoredEvent) => void;
  /** `gapFrom`: every event of this read model at or below it was in the log snapshot. */
  finish: (gapFrom: number) => Promise<RebuildResult>;
  discard: () => Promise<void>;
};

export async function startTargetRebuild(options: { db: DatabasePool; spec: RebuildSpec; dryRun?: boolean }): Promise<TargetRebuild> {
  const { db, spec } = options;
  const schema = `rebuild_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const scratch = sql.identifier([schema]);
  await db.transaction(async (tx) => {
    await tx.query(sql.unsafe`create schema ${scratch}`);
    for (const table of spec.tables) {
      await tx.query(sql.unsafe`create table ${sql.identifier([schema, table])} (like ${sql.identifier(['public', table])} including all)`);
      // The rows are written twice, here and into the live table at the swap: only the live
      // table needs the lookup indexes. The unique ones stay (upserts and the dry run's
      // comparison match on them).
      const lookups = await tx.anyFirst(sql.unsafe`
        select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid
        where i.indrelid = ${`${schema}.${table}`}::regclass and not i.indisunique`);
      for (const index of lookups) await tx.query(sql.unsafe`drop index ${sql.identifier([schema, String(index)])}`);
    }
  });
  const builder = spec.createBuilder();
  const applied = new Set<number>();
  let position = 0;
  const discard = async () => {
    await db.query(sql.unsafe`drop schema if exists ${scratch} cascade`);
  };

  return {
    spec,
    discard,
    feed(event) {
      if (applied.has(event.globalPosition) || !spec.belongs(event)) return;
      applied.add(event.globalPosition);
      position = Math.max(position, event.globalPosition);
      builder.add(event);
    },
    async finish(gapFrom) {
      try {
        await db.transaction(async (tx) => {
          await tx.query(sql.unsafe`set local search_path to ${scratch}, public`);
          await builder.flush(tx);
        });
        const result = await db.transaction(async (tx) => {
          const live = await lockCheckpoint(tx, spec.checkpointKey);
          await tx.query(sql.unsafe`set local search_path to ${scratch}, public`);
          for (const event of await spec.loadAfter(gapFrom, Math.max(live, position))) {
            if (applied.has(event.globalPosition)) continue;
            applied.add(event.globalPosition);
            await spec.apply(tx, event);
          }
          const reached = Math.max(position, live);
          await tx.query(sql.unsafe`set local search_path to public`);
          const base = { name: spec.name, applied: applied.size, position: reached, livePosition: live };
          if (options.dryRun) {
            const differences = [];
            for (const table of spec.tables) {
              const found = await compareTables(tx, table, schema);
              if (found.missing + found.extra + found.changed > 0) differences.push(found);
            }
            return { ...base, swappedAt: null, differences };
          }
          for (const table of spec.tables) {
            await tx.query(sql.unsafe`delete from ${sql.identifier(['public', table])}`);
            await tx.query(sql.unsafe`insert into ${sql.identifier(['public', table])} select * from ${sql.identifier([schema, table])}`);
          }
          await moveCheckpoint(tx, spec.checkpointKey, reached);
          return { ...base, swappedAt: new Date().toISOString() };
        });
        if (result.swappedAt) await spec.afterSwap?.();
        return result;
      } finally {
        await discard();
      }
    },
  };
}

/**
 * Keeps the events of a rebuild and applies them at the flush, in position order, in chunks of
 * 1,000 (a read model that applies a batch in fewer statements than its events).
 */
export function batchingBuilder(applyBatch: (tx: DatabaseTransactionConnection, events: StoredEvent[]) => Promise<void>): ReadModelBuilder {
  const events: StoredEvent[] = [];
  return {
    add: (event) => {
      events.push(event);
    },
    async flush(tx) {
      events.sort((a, b) => a.globalPosition - b.globalPosition);
      for (let i = 0; i < events.length; i += 1000) await applyBatch(tx, events.slice(i, i + 1000));
      events.length = 0;
    },
  };
}

/** The same, applying each event through SQL on its own (the live projection's handler). */
export function bufferingBuilder(apply: RebuildSpec['apply']): ReadModelBuilder {
  return batchingBuilder(async (tx, events) => {
    for (const event of events) await apply(tx, event);
  });
}

export type { Logger };
