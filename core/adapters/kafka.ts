// The only module that imports kafkajs: the rest of the code sees this small port, so the client
// library can be swapped (e.g. for @confluentinc/kafka-javascript) without touching callers.
import './kafkajs-request-queue-fix.ts';
import {
  AssignerProtocol,
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type Producer,
  type LogEntry,
  type PartitionAssigner,
  type KafkaMessage,
} from 'kafkajs';
import type { Logger } from './logger.ts';

export type Topics = { platform: string; documents: string };

/** Topic map: one topic per event category, prefixed for test isolation. */
export function topicNames(prefix: string): Topics {
  return { platform: `${prefix}ledgerline.platform.events.v1`, documents: `${prefix}ledgerline.documents.events.v1` };
}

export function topicOf(prefix: string): (category: string) => string {
  const topics = topicNames(prefix);
  return (category) => {
    if (category === 'platform' || category === 'documents') return topics[category];
    throw new Error(`no topic for category ${category}`);
  };
}

export type LogMessage = { key: string; value: string; headers: Record<string, string> };

/**
 * A consumed message as projections see it. The headers are decoded into strings only when read:
 * the projector runtime reads the value alone, and every projector process receives every event.
 */
function logMessageOf(message: KafkaMessage): EventLogBatch['messages'][number] {
  let headers: Record<string, string> | undefined;
  return {
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    get headers() {
      return (headers ??= Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
    },
  };
}

export type EventLogBatch = {
  topic: string;
  partition: number;
  messages: { offset: string; key: string | null; value: string | null; headers: Record<string, string> }[];
  isRunning: () => boolean;
  isStale: () => boolean;
  heartbeat: () => Promise<void>;
  /** Marks the batch done up to `offset`; resolved offsets are committed once a second and on stop. */
  resolveOffset: (offset: string) => void;
};

/** Offsets `from` (inclusive) to `to` (exclusive) of one partition. */
export type LogRange = { topic: string; partition: number; from: string; to: string };
export type LogRangeBatch = { topic: string; partition: number; messages: { offset: string; key: string | null; value: string | null }[] };

export type EventLog = {
  /** The partition a message with `key` goes to (the producer's default, murmur2, partitioner). */
  partitionFor: (topic: string, key: string) => Promise<number>;
  /**
   * Reads the given ranges once, in offset order per partition, and resolves when every range is
   * read. It reads only those partitions (a one-member group with its own assignment, never
   * committing offsets), and deletes its consumer group when done, also on failure.
   */
  readRanges: (options: { groupId: string; ranges: LogRange[]; onBatch: (batch: LogRangeBatch) => Promise<void> }) => Promise<void>;
  ensureTopics: (topics: string[], partitions: number) => Promise<void>;
  createProducer: () => Promise<EventLogProducer>;
  subscribe: (options: SubscribeOptions) => Promise<Subscription>;
  endOffsets: (topic: string) => Promise<{ partition: number; high: string; low: string }[]>;
  /** Deletes the topics whose names start with `prefix`, waiting until the broker no longer lists them. */
  deleteTopicsWithPrefix: (prefix: string) => Promise<string[]>;
  /** Deletes the consumer groups whose ids start with `prefix` (they must have no live members). */
  deleteGroupsWithPrefix: (prefix: string) => Promise<string[]>;
  /** Deletes the groups whose ids start with `prefix` that have no live member; returns those left (with members). */
  deleteIdleGroupsWithPrefix: (prefix: string) => Promise<string[]>;
  close: () => Promise<void>;
};

export type EventLogProducer = {
  /** Sends in order and resolves once every message is acknowledged by all in-sync replicas. */
  publish: (topic: string, messages: LogMessage[]) => Promise<void>;
  close: () => Promise<void>;
};

export type SubscribeOptions = {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  onBatch: (batch: EventLogBatch) => Promise<void>;
  /** Called when the consumer crashed for good (kafkajs gave up restarting it). */
  onCrash: (error: Error) => void;
  onRebalance?: () => void;
  /**
   * How long the broker may gather events before it answers a fetch. Left out, it answers as
   * soon as one event is there (what read models need for freshness); work that needs no
   * freshness (audit, webhooks, mail) asks for fewer, larger batches instead.
   */
  gatherMs?: number;
};

export type Subscription = { stop: () => Promise<void> };

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const bound = logger.child({ component: 'kafkajs' });
      if (level <= logLevel.ERROR) bound.error(extra, message);
      else if (level === logLevel.WARN) bound.warn(extra, message);
      else bound.debug(extra, message);
    };
}

const ENSURE_TOPICS_TIMEOUT_MS = 120_000;
const OFFSET_COMMIT_INTERVAL_MS = 1000;
/** A gathering fetch is answered once this much is there, or its time is up. */
const GATHER_BYTES = 1024 * 1024;
const FINAL_COMMIT_TIMEOUT_MS = 2000;

/** Thrown while topic metadata is still incomplete: retried like a retriable Kafka error. */
class NotReadyYet extends Error {
  readonly retriable = true;
}

/**
 * Whether a kafkajs error is worth retrying: its own `retriable` flag, or that of the error it
 * wraps (KafkaJSNumberOfRetriesExceeded wraps the last attempt's error), or a connection-level failure.
 */
export function isRetriableKafkaError(err: unknown): boolean {
  for (let e = err as { retriable?: boolean; originalError?: unknown; cause?: unknown; name?: string } | undefined, depth = 0; e && depth < 5; depth += 1) {
    if (e.retriable === true) return true;
    if (
      [
        'KafkaJSConnectionError',
        'KafkaJSRequestTimeoutError',
        'KafkaJSConnectionClosedError',
        'KafkaJSBrokerNotFound',
        'KafkaJSTimeout',
        'KafkaJSLockTimeout',
        'KafkaJSMetadataNotLoaded',
      ].includes(e.name ?? '')
    )
      return true;
    if ((e as { type?: string }).type === 'NOT_CONTROLLER') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/** Runs `step` until it succeeds, backing off (200 ms doubling to 3 s) on retriable errors until `deadline`. */
export async function retryKafka<T>(what: string, deadline: number, logger: Logger, step: () => Promise<T>): Promise<T> {
  let delay = 200;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (err) {
      if (!isRetriableKafkaError(err) || Date.now() + delay > deadline) throw err;
      logger.warn(
        { err: { name: (err as Error).name, message: (err as Error).message }, attempt, retryInMs: delay },
        `kafka: ${what} not possible yet; retrying`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 3000);
    }
  }
}

export function createEventLog(options: { brokers: string; clientId: string; logger: Logger }): EventLog {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.WARN,
    logCreator: kafkaLogger(options.logger),
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const consumers: Consumer[] = [];
  const producers: Producer[] = [];
  // A failed connect must not be remembered: the next call tries again.
  const connectAdmin = () =>
    (adminConnected ??= admin.connect().catch((err: unknown) => {
      adminConnected = undefined;
      throw err;
    }));
  /** True when the group is gone; false when the broker refused (e.g. it still has a member). */
  async function deleteGroup(groupId: string): Promise<boolean> {
    try {
      await connectAdmin();
      await admin.deleteGroups([groupId]);
      return true;
    } catch (err) {
      const code = (err as { groups?: { error?: { type?: string } }[] }).groups?.[0]?.error?.type;
      if (code === 'GROUP_ID_NOT_FOUND') return true;
      options.logger.warn({ err, groupId }, 'consumer group not deleted');
      return false;
    }
  }

  const partitioner = Partitioners.DefaultPartitioner();
  return {
    async partitionFor(topic, key) {
      const partitions = (await this.endOffsets(topic)).map((p) => ({ partitionId: p.partition, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      return partitioner({ topic, partitionMetadata: partitions, message: { key, value: null } });
    },
    async readRanges({ groupId, ranges, onBatch }) {
      const wanted = ranges.filter((r) => BigInt(r.to) > BigInt(r.from));
      if (wanted.length === 0) return;
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: false,
        maxBytesPerPartition: 16 * 1024 * 1024,
        maxBytes: 64 * 1024 * 1024,
        partitionAssigners: [onlyThese(wanted)],
      });
      const remaining = new Map(wanted.map((r) => [`${r.topic}:${r.partition}`, r]));
      try {
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, ({ payload }) => {
            if (!payload.restart) reject(payload.error);
          });
          (async () => {
            await consumer.connect();
            await consumer.subscribe({ topics: [...new Set(wanted.map((r) => r.topic))], fromBeginning: true });
            await consumer.run({
              autoCommit: false,
              eachBatch: async ({ batch, heartbeat }) => {
                const range = remaining.get(`${batch.topic}:${batch.partition}`);
                if (!range) return;
                const end = BigInt(range.to);
                const messages = batch.messages
                  .filter((m) => BigInt(m.offset) >= BigInt(range.from) && BigInt(m.offset) < end)
                  .map((m) => ({ offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? null }));
                if (messages.length > 0) await onBatch({ topic: batch.topic, partition: batch.partition, messages });
                await heartbeat();
                const last = batch.messages.at(-1);
                if (last && BigInt(last.offset) + 1n >= end) remaining.delete(`${batch.topic}:${batch.partition}`);
                if (remaining.size === 0) resolve();
              },
            });
          })().catch(reject);
        });
      } finally {
        await consumer.disconnect().catch(() => {});
        await deleteGroup(groupId);
      }
    },
    async ensureTopics(topics, partitions) {
      // A broker that has just started answers before it can host partitions (UNKNOWN_TOPIC_OR_PARTITION,
      // LEADER_NOT_AVAILABLE, NOT_CONTROLLER): retry every step with back-off until each partition has a leader.
      const deadline = Date.now() + ENSURE_TOPICS_TIMEOUT_MS;
      await retryKafka('connect admin', deadline, options.logger, connectAdmin);
      const existing = new Set(await retryKafka('list topics', deadline, options.logger, () => admin.listTopics()));
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await retryKafka('create topics', deadline, options.logger, () =>
          admin.createTopics({
            waitForLeaders: false,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: partitions,
              replicationFactor: 1,
              // Event topics are the log replay and audit consumers read from offset 0: keep everything.
              configEntries: [
                { name: 'retention.ms', value: '-1' },
                { name: 'retention.bytes', value: '-1' },
                { name: 'cleanup.policy', value: 'delete' },
              ],
            })),
          }),
        );
      }
      await retryKafka('wait for partition leaders', deadline, options.logger, async () => {
        const { topics: found } = await admin.fetchTopicMetadata({ topics });
        for (const topic of topics) {
          const partitionsOf = found.find((f) => f.name === topic)?.partitions ?? [];
          const led = partitionsOf.filter((p) => p.leader >= 0 && p.partitionErrorCode === 0);
          if (led.length === 0 || led.length < partitionsOf.length)
            throw new NotReadyYet(`topic ${topic}: ${led.length}/${partitionsOf.length} partitions have a leader`);
        }
      });
    },
    async createProducer() {
      // Idempotent with one request in flight: broker-side dedup of retries, and no reordering.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await retryKafka('connect producer', Date.now() + ENSURE_TOPICS_TIMEOUT_MS, options.logger, () => producer.connect());
      producers.push(producer);
      return {
        async publish(topic, messages) {
          if (messages.length === 0) return;
          await producer.send({ topic, acks: -1, messages });
        },
        close: () => producer.disconnect(),
      };
    },
    async subscribe({ groupId, topics, fromBeginning = true, onBatch, onCrash, onRebalance, gatherMs }) {
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
        allowAutoTopicCreation: false,
        ...(gatherMs ? { maxWaitTimeInMs: gatherMs, minBytes: GATHER_BYTES } : { maxWaitTimeInMs: 200 }),
      });
      consumers.push(consumer);
      // kafkajs's auto-commit sends an OffsetCommit after every batch (runner.js): one write to
      // __consumer_offsets per batch per group, a fifth of the broker's CPU under command load.
      // Offsets here only say where a restarted consumer starts reading (each projection's
      // checkpoint in PostgreSQL decides what is applied), so the resolved offsets are committed
      // once a second, and on stop: a crash redelivers at most that second, which the checkpoints
      // recognise. Offsets resolved before a rebalance are dropped, never committed over the
      // partition's new owner.
      const resolved = new Map<string, { topic: string; partition: number; offset: string }>();
      let committing: Promise<void> = Promise.resolve();
      const commitResolved = () =>
        (committing = committing.then(async () => {
          if (resolved.size === 0) return;
          const offsets = [...resolved.values()];
          resolved.clear();
          await consumer.commitOffsets(offsets).catch((err: unknown) => {
            options.logger.debug({ err, groupId }, 'offset commit skipped (the next one carries it)');
          });
        }));
      const committer = setInterval(() => void commitResolved(), OFFSET_COMMIT_INTERVAL_MS);
      committer.unref();
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        options.logger.error({ err: payload.error, groupId, restart: payload.restart }, 'kafka consumer crashed');
        if (!payload.restart) onCrash(payload.error);
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        resolved.clear();
        onRebalance?.();
      });
      const deadline = Date.now() + ENSURE_TOPICS_TIMEOUT_MS;
      await retryKafka('connect consumer', deadline, options.logger, () => consumer.connect());
      await retryKafka('subscribe', deadline, options.logger, () => consumer.subscribe({ topics, fromBeginning }));
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: false,
        eachBatch: async ({ batch, isRunning, isStale, heartbeat, resolveOffset }) => {
          await onBatch({
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages.map(logMessageOf),
            isRunning,
            isStale,
            heartbeat,
            resolveOffset: (offset) => {
              resolveOffset(offset);
              resolved.set(`${batch.topic}:${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() });
            },
          });
        },
      });
      return {
        stop: async () => {
          clearInterval(committer);
          // The last offsets are a courtesy to the next start: a broker that is down must not
          // hold up the stop (kafkajs would retry the commit for much longer).
          await Promise.race([commitResolved(), new Promise((resolve) => setTimeout(resolve, FINAL_COMMIT_TIMEOUT_MS).unref())]);
          await consumer.disconnect();
        },
      };
    },
    async endOffsets(topic) {
      await connectAdmin();
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, high: o.high, low: o.low }));
    },
    async deleteTopicsWithPrefix(prefix) {
      await connectAdmin();
      const doomed = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
      if (doomed.length === 0) return [];
      await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
      // Deletion is asynchronous: wait until the broker no longer lists them.
      const deadline = Date.now() + 30_000;
      while ((await admin.listTopics()).some((topic) => doomed.includes(topic))) {
        if (Date.now() > deadline) throw new Error(`Kafka still lists deleted topics after 30 s: ${doomed.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return doomed;
    },
    async deleteIdleGroupsWithPrefix(prefix) {
      await connectAdmin();
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      const left: string[] = [];
      // One at a time: a group with a live member (another run) refuses, the others still go.
      for (const group of groups) if (!(await deleteGroup(group))) left.push(group);
      return left;
    },
    async deleteGroupsWithPrefix(prefix) {
      await connectAdmin();
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (groups.length > 0) await admin.deleteGroups(groups);
      return groups;
    },
    async close() {
      await Promise.allSettled([...consumers.map((c) => c.disconnect()), ...producers.map((p) => p.disconnect())]);
      if (adminConnected) await admin.disconnect();
    },
  };
}

/** A one-member group's assignment: exactly the given partitions, none of the others. */
function onlyThese(ranges: LogRange[]): PartitionAssigner {
  const assignment: Record<string, number[]> = {};
  for (const r of ranges) (assignment[r.topic] ??= []).push(r.partition);
  return () => ({
    name: 'LedgerlineRangeAssigner',
    version: 0,
    async assign({ members }) {
      return members.slice(0, 1).map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: 'LedgerlineRangeAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
