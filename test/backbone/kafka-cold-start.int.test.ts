// A fresh machine's first `npm test` once crashed with UNKNOWN_TOPIC_OR_PARTITION from the admin
// client's metadata wait: the topics were created on a broker that had just started. Here a
// broker of our own is started and the topics are asked for before it even listens: ensureTopics
// must wait for the broker and for a leader on every partition, and nothing may escape unhandled.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { createEventLog } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { ownStack } from '../support/own-stack.ts';

t.test('ensureTopics on a broker that is still starting waits for every partition to have a leader', async (t) => {
  const stray: unknown[] = [];
  const onStray = (err: unknown) => {
    stray.push(err);
  };
  process.on('unhandledRejection', onStray);
  t.teardown(() => {
    process.off('unhandledRejection', onStray);
  });

  const stack = await ownStack(t, ['kafka']);
  const brokers = stack.env.KAFKA_BROKERS!;
  t.match(brokers, new RegExp(`:${stack.env.LEDGERLINE_KAFKA_PORT}$`), 'infra.sh env names the overridden port');
  const logger = createLogger('cold-start', { LOG_LEVEL: 'silent' as never });
  const eventLog = createEventLog({ brokers, clientId: 'cold-start', logger });
  t.teardown(() => eventLog.close());

  const topics = ['cold.a.events.v1', 'cold.b.events.v1'];
  const starting = stack.start('kafka');
  // Asked before the broker listens: the first attempts are refused connections.
  await eventLog.ensureTopics(topics, 6);
  await starting;

  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const metadata = await admin.fetchTopicMetadata({ topics });
  for (const topic of metadata.topics) {
    t.equal(topic.partitions.length, 6, `${topic.name} has its 6 partitions`);
    t.ok(
      topic.partitions.every((p) => p.leader >= 0),
      `${topic.name}: every partition has a leader`,
    );
  }
  // The first thing a test does next: produce to and read back from those partitions.
  const producer = await eventLog.createProducer();
  await producer.publish(
    topics[0]!,
    Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: {} })),
  );
  const offsets = await eventLog.endOffsets(topics[0]!);
  t.equal(
    offsets.reduce((sum, o) => sum + Number(o.high), 0),
    12,
    'every message was accepted',
  );
  await eventLog.ensureTopics(topics, 6);
  t.pass('a second ensureTopics on existing topics is a no-op');
  t.same(stray, [], 'no Kafka error escaped as an unhandled rejection');
});
