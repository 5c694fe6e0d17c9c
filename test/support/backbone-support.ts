// Shared helpers for the event backbone tests (test/backbone/): a test-only event registry, appends,
// an in-process relay, a reader of the Kafka log and fixture child processes that a test may kill.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { sql, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import { appendToStreams, type AppendResult, type EventRegistry, type StoredEvent, type StreamAppend } from '../../core/eventing/event-store.ts';
import { createEventLog, topicOf } from '../../core/adapters/kafka.ts';
import type { Logger } from '../../core/adapters/logger.ts';
import { createMetrics, type Metrics } from '../../core/adapters/metrics.ts';
import { startRelay, type Relay } from '../../core/eventing/relay.ts';
import { eventually, uniqueId, type TestContext } from './harness.ts';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

/** Test-only registry: `Document*` events are tenant documents, everything else is platform. */
export const probeRegistry: EventRegistry = (type) => ({
  schemaVersion: 1,
  category: type.startsWith('Document') ? 'documents' : 'platform',
});

/** `count` probe events numbered from `from`, e.g. for a stream appended to in several steps. */
export function probeEvents(type: string, count: number, from = 1): StreamAppend['events'] {
  return Array.from({ length: count }, (_, i) => ({ type, data: { n: from + i } }));
}

/** Appends inside `tx` (a transaction the caller holds) as `actor` of `tenantId` (null: a platform aggregate). */
export function appendIn(
  tx: DatabaseTransactionConnection,
  ctx: Pick<TestContext, 'config'>,
  appends: StreamAppend[],
  tenantId: string | null = null,
): Promise<AppendResult> {
  return appendToStreams(
    tx,
    appends,
    {
      tenantId,
      actor: 'user-probe',
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date(),
    },
    probeRegistry,
    topicOf(ctx.config.TOPIC_PREFIX),
  );
}

/** Appends in a transaction of its own. */
export function append(ctx: Pick<TestContext, 'config' | 'pool'>, appends: StreamAppend[], tenantId: string | null = null): Promise<AppendResult> {
  return ctx.pool.transaction((tx) => appendIn(tx, ctx, appends, tenantId));
}

/** A relay in this process, stopped when `t` ends; `logger` also gets its Kafka client's logs. */
export async function startTestRelay(ctx: TestContext, t: Teardown, logger?: Logger): Promise<Relay> {
  const eventLog = logger ? createEventLog({ brokers: ctx.config.KAFKA_BROKERS, clientId: `${ctx.id}-relay`, logger }) : ctx.eventLog;
  logger ??= ctx.logger;
  const producer = await eventLog.createProducer();
  const relay = startRelay({
    pool: ctx.pool,
    connectionUri: ctx.config.DATABASE_URL,
    producer,
    logger,
    metrics: createMetrics(),
    pollIntervalMs: 100,
  });
  t.teardown(async () => {
    await relay.stop();
    await producer.close().catch(() => {});
    if (eventLog !== ctx.eventLog) await eventLog.close();
  });
  return relay;
}

export async function unpublishedCount(ctx: TestContext): Promise<number> {
  return Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox where published_at is null`));
}

export type LoggedMessage = { topic: string; partition: number; offset: number; key: string | null; headers: Record<string, string>; event: StoredEvent };
export type LogReader = { messages: LoggedMessage[]; until: (count: number, timeoutMs?: number) => Promise<LoggedMessage[]>; stop: () => Promise<void> };

/** Reads `topics` from offset 0 in a group of its own, as an audit consumer would. */
export async function readLog(ctx: TestContext, t: Teardown, topics: string[]): Promise<LogReader> {
  const messages: LoggedMessage[] = [];
  const seen = new Set<string>(); // a batch redelivered after a rebalance is not a second message
  let crashed: Error | undefined;
  const subscription = await ctx.eventLog.subscribe({
    groupId: `${ctx.id}.${uniqueId('reader')}`,
    topics,
    onCrash: (err) => {
      crashed = err;
    },
    onBatch: async (batch) => {
      for (const m of batch.messages) {
        if (m.value === null || seen.has(`${batch.topic}/${batch.partition}/${m.offset}`)) continue;
        seen.add(`${batch.topic}/${batch.partition}/${m.offset}`);
        messages.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(m.offset),
          key: m.key,
          headers: m.headers,
          event: JSON.parse(m.value) as StoredEvent,
        });
        batch.resolveOffset(m.offset);
      }
    },
  });
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await subscription.stop();
    }
  };
  t.teardown(stop);
  return {
    messages,
    stop,
    until: (count, timeoutMs = 30_000) =>
      eventually(
        async () => {
          if (crashed) throw crashed;
          return messages.length >= count ? messages : undefined;
        },
        { timeoutMs },
      ),
  };
}

export type Fixture = { pid: number; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output: () => string; stop: () => Promise<void> };

/** Starts test/support/<script> in a child process with the test's environment plus `env`. */
export function spawnFixture(t: Teardown, script: string, env: Record<string, string>): Fixture {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  t.teardown(async () => {
    if (running) child.kill('SIGKILL');
    await exited;
  });
  return { pid: child.pid ?? 0, exited, output: () => output, stop };
}

export type LogRecord = { level: number; msg: string; component?: string; [key: string]: unknown };

/** A logger whose records (warn and above) the test can inspect. */
export function capturingLogger(name: string): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: pino({ name, level: 'warn' }, sink), records };
}

/** What Kafka's admin API says about a consumer group: messages not yet committed, and its members. */
export async function consumerGroupProbe(
  ctx: TestContext,
  t: Teardown,
): Promise<{
  lag: (groupId: string, topic: string) => Promise<number>;
  members: (groupId: string) => Promise<number>;
}> {
  const admin = new Kafka({ brokers: ctx.config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  return {
    async lag(groupId, topic) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.reduce((lag, end) => {
        const at = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        return lag + Number(end.high) - Math.max(at, Number(end.low));
      }, 0);
    },
    async members(groupId) {
      const {
        groups: [group],
      } = await admin.describeGroups([groupId]);
      return group?.state === 'Stable' ? group.members.length : 0;
    },
  };
}

/** The total of a counter over all its labels, e.g. projector_scope_failures_total (a double apply would count). */
export async function counterTotal(metrics: Metrics, name: string): Promise<number> {
  return (await metrics.render())
    .split('\n')
    .filter((line) => line.startsWith(`ledgerline_${name}{`) || line.startsWith(`ledgerline_${name} `))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** `count` tenant ids whose messages the default partitioner puts in one partition of `partitions`. */
export function tenantsSharingAPartition(count: number, partitions: number): string[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  const partitionOf = (key: string) => partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
  const first = randomUUID();
  const tenants = [first];
  while (tenants.length < count) {
    const candidate = randomUUID();
    if (partitionOf(candidate) === partitionOf(first)) tenants.push(candidate);
  }
  return tenants;
}
