// Follows Ledgerline's event log as an outside audit consumer would: plain kafkajs and nothing of
// the project's code (copy this file anywhere). Prints each event envelope as one NDJSON line.
//
//   node scripts/audit-tail.ts [--brokers host:port] [--topic-prefix P] [--tenant <id>]
//        [--since <ISO time>] [--from-position <n>] [--until-end] [--group <id>]
//
// --tenant keeps one tenant's events (messages are keyed by tenant id); --since starts at the
// first message at or after that time; --from-position drops events below that global position;
// --until-end stops at the end offsets seen at start (an export) instead of following; --group
// commits offsets under that consumer group so a later run resumes there (without it, a
// throwaway group is used and deleted on exit). Delivery is at least once: events already
// printed (same eventId) are dropped. Order holds per key (per tenant), not across keys.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:59092' },
    'topic-prefix': { type: 'string', default: process.env.TOPIC_PREFIX ?? '' },
    tenant: { type: 'string' },
    since: { type: 'string' },
    'from-position': { type: 'string' },
    'until-end': { type: 'boolean', default: false },
    group: { type: 'string' },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`audit-tail: ${message}\n`);
  process.exit(2);
};
const since = values.since === undefined ? undefined : Date.parse(values.since);
if (since !== undefined && Number.isNaN(since)) fail('--since must be an ISO 8601 time');
const fromPosition = values['from-position'] === undefined ? 0 : Number(values['from-position']);
if (!Number.isSafeInteger(fromPosition) || fromPosition < 0) fail('--from-position must be a non-negative integer');

type Envelope = { eventId: string; tenantId: string | null; globalPosition: number };
const topics = ['platform', 'documents'].map((category) => `${values['topic-prefix']}ledgerline.${category}.events.v1`);
const kafka = new Kafka({ clientId: 'audit-tail', brokers: values.brokers!.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const groupId = values.group ?? `audit-tail-${randomUUID()}`;
const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });

// Delivery is at least once: remember recent event ids (bounded) and print each event once.
const seen = new Map<string, true>();
const SEEN_MAX = 200_000;
function firstTime(eventId: string): boolean {
  if (seen.has(eventId)) return false;
  seen.set(eventId, true);
  if (seen.size > SEEN_MAX) seen.delete(seen.keys().next().value!);
  return true;
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await consumer.disconnect().catch(() => {});
    if (values.group === undefined) await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  await admin.connect();
  // Where each partition starts (for --since) and, for --until-end, where it ends.
  const remaining = new Map<string, number>();
  const seeks: { topic: string; partition: number; offset: string }[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts = since === undefined ? null : await admin.fetchTopicOffsetsByTimestamp(topic, since);
    for (const end of ends) {
      const byTime = starts?.find((s) => s.partition === end.partition)?.offset;
      const start = byTime === undefined ? Number(end.low) : Number(byTime) < 0 ? Number(end.high) : Number(byTime);
      if (starts) seeks.push({ topic, partition: end.partition, offset: String(start) });
      if (Number(end.high) > start) remaining.set(`${topic}/${end.partition}`, Number(end.high));
    }
  }
  if (values['until-end'] && remaining.size === 0) await stop(0);

  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) {
      process.stderr.write(`audit-tail: consumer crashed: ${event.payload.error.message}\n`);
      void stop(1);
    }
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const value = message.value?.toString();
      if (value) {
        let event: Envelope | null = null;
        try {
          event = JSON.parse(value) as Envelope;
        } catch {
          process.stderr.write(`audit-tail: skipped a message that is not JSON (${topic}/${partition}@${message.offset})\n`);
        }
        const wanted = event !== null && (values.tenant === undefined || event.tenantId === values.tenant) && event.globalPosition >= fromPosition;
        if (event && wanted && firstTime(event.eventId) && !process.stdout.write(`${value}\n`)) {
          await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
      }
      const end = remaining.get(`${topic}/${partition}`);
      if (end !== undefined && Number(message.offset) + 1 >= end) remaining.delete(`${topic}/${partition}`);
      if (values['until-end'] && remaining.size === 0) void stop(0);
    },
  });
  for (const seek of seeks) consumer.seek(seek);
} catch (err) {
  process.stderr.write(`audit-tail: ${(err as Error).message}\n`);
  await stop(1);
}
