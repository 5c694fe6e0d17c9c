import { eventFromMessage } from './upcast.ts';
import type { DatabasePool } from '../adapters/db.ts';
import type { EventLog, LogRange } from '../adapters/kafka.ts';
import type { Logger } from '../adapters/logger.ts';
import { mapBounded, type Progress } from '../adapters/operator-progress.ts';
import { startTargetRebuild, type RebuildResult, type RebuildSpec, type TargetRebuild } from './rebuild.ts';

export type RebuildJob = { spec: RebuildSpec; db: () => Promise<DatabasePool> };
export type JobOutcome = { job: RebuildJob; result?: RebuildResult; error?: Error };

/**
 * Rebuilds read models from the Kafka log. Jobs that live on the same partitions (the tenants
 * whose keys hash to one partition; `main`; `audit`) form one group: the group's partitions are
 * read once, up to the end offsets seen when it starts, and every event goes to each of its
 * jobs; then its jobs finish (write, then swap or compare) `concurrency` at a time. Groups run
 * one after the other, so at most one partition's tenants are held in memory. A job's failure
 * is its own outcome: the others go on. `onOutcome` is called as each job ends (the run table).
 */
export async function rebuildJobs(options: {
  eventLog: EventLog;
  groupId: string;
  jobs: RebuildJob[];
  dryRun?: boolean;
  concurrency?: number;
  logger: Logger;
  progress?: Progress;
  onOutcome?: (outcome: JobOutcome) => Promise<void>;
}): Promise<JobOutcome[]> {
  const { eventLog, logger } = options;
  const groups = new Map<string, { ranges: LogRange[]; jobs: RebuildJob[] }>();
  let total = 0;
  for (const job of options.jobs) {
    const ranges: LogRange[] = [];
    for (const topic of job.spec.topics) {
      const ends = await eventLog.endOffsets(topic);
      const only = job.spec.key === undefined ? undefined : await eventLog.partitionFor(topic, job.spec.key);
      for (const end of ends) {
        if (only === undefined || end.partition === only) ranges.push({ topic, partition: end.partition, from: end.low, to: end.high });
      }
    }
    const signature = ranges
      .map((r) => `${r.topic}:${r.partition}`)
      .sort()
      .join(',');
    const group = groups.get(signature);
    if (group) group.jobs.push(job);
    else {
      groups.set(signature, { ranges, jobs: [job] });
      total += ranges.reduce((sum, r) => sum + Number(r.to) - Number(r.from), 0);
    }
  }
  options.progress?.setTotal(total);

  const outcomes: JobOutcome[] = [];
  const record = async (outcome: JobOutcome) => {
    outcomes.push(outcome);
    if (outcome.error) logger.error({ rebuild: outcome.job.spec.name, err: outcome.error }, 'rebuild failed');
    else logger.info({ rebuild: outcome.job.spec.name, ...outcome.result }, options.dryRun ? 'rebuild compared' : 'rebuild swapped in');
    await options.onOutcome?.(outcome);
  };
  let read = 0;
  let groupIndex = 0;
  for (const { ranges, jobs } of groups.values()) {
    groupIndex += 1;
    const targets: { job: RebuildJob; target: TargetRebuild }[] = [];
    for (const job of jobs) {
      try {
        targets.push({ job, target: await startTargetRebuild({ db: await job.db(), spec: job.spec, dryRun: options.dryRun ?? false }) });
      } catch (err) {
        await record({ job, error: err as Error });
      }
    }
    // The relay may send an event twice: positions only grow within a partition, so anything at
    // or below the partition's last one is a re-send.
    const lastInPartition = new Map<string, number>();
    try {
      await eventLog.readRanges({
        groupId: `${options.groupId}.${groupIndex}`,
        ranges,
        onBatch: async (batch) => {
          const partition = `${batch.topic}:${batch.partition}`;
          let last = lastInPartition.get(partition) ?? 0;
          for (const message of batch.messages) {
            read += 1;
            if (!message.value) continue;
            const event = eventFromMessage(message.value);
            if (event.globalPosition <= last) continue;
            last = event.globalPosition;
            for (const { target } of targets) target.feed(event);
          }
          lastInPartition.set(partition, last);
          options.progress?.update(read, { done: outcomes.length, of: options.jobs.length });
        },
      });
    } catch (err) {
      for (const { job, target } of targets) {
        await target.discard().catch(() => {});
        await record({ job, error: err as Error });
      }
      continue;
    }
    // Every event at or below the lowest of its partitions' last positions was in the snapshot.
    const gapFrom = ranges.every((r) => lastInPartition.has(`${r.topic}:${r.partition}`))
      ? Math.min(...ranges.map((r) => lastInPartition.get(`${r.topic}:${r.partition}`) ?? 0))
      : 0;
    await mapBounded(targets, options.concurrency ?? 4, async ({ job, target }) => {
      try {
        await record({ job, result: await target.finish(gapFrom) });
      } catch (err) {
        await record({ job, error: err as Error });
      }
      options.progress?.update(read, { done: outcomes.length, of: options.jobs.length });
    });
  }
  return outcomes;
}

/** One read model, rebuilt (or compared, on a dry run); throws its failure. */
export async function rebuildOne(options: {
  eventLog: EventLog;
  db: DatabasePool;
  spec: RebuildSpec;
  logger: Logger;
  groupId: string;
  dryRun?: boolean;
}): Promise<RebuildResult> {
  const [outcome] = await rebuildJobs({ ...options, jobs: [{ spec: options.spec, db: async () => options.db }] });
  if (!outcome?.result) throw outcome?.error ?? new Error('rebuild produced no outcome');
  return outcome.result;
}
