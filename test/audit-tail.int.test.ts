// scripts/audit-tail.ts, spawned as an outside consumer would run it, against real topics:
// one tenant or all, from a time or a position, duplicates (a relay re-send) dropped by event
// id, following new events until stopped, and no consumer group left behind.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createTestContext, eventually } from './support/harness.ts';
import { runNode, spawnNode } from './support/identity-helpers.ts';

const ctx = await createTestContext(t);
const tenantA = randomUUID();
const tenantB = randomUUID();
const kafka = new Kafka({ clientId: `${ctx.id}-tail-test`, brokers: ctx.config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
t.teardown(() => producer.disconnect());

let position = 0;
const envelope = (tenantId: string | null, type = 'DocumentCreated') => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  category: 'platform',
  streamId: tenantId ? `tenant-${tenantId}` : `user-${randomUUID()}`,
  streamVersion: 1,
  globalPosition: ++position,
  tenantId,
  occurredAt: new Date().toISOString(),
  actor: null,
  correlationId: randomUUID(),
  causationId: null,
  data: {},
});
type Envelope = ReturnType<typeof envelope>;
const send = (events: Envelope[], timestamp: number) =>
  producer.send({
    topic: ctx.topics.platform,
    messages: events.map((e) => ({
      key: e.tenantId ?? e.streamId,
      value: JSON.stringify(e),
      timestamp: String(timestamp),
      headers: { 'event-id': e.eventId },
    })),
  });

const hourAgo = Date.now() - 3_600_000;
const old = [envelope(tenantA), envelope(tenantB), envelope(null, 'LoginSucceeded'), envelope(tenantA)];
await send(old, hourAgo);
const recent = [envelope(tenantA), envelope(tenantB)];
await send([...recent, old[3]!], Date.now()); // old[3] again: what a relay re-send looks like
const env = { KAFKA_BROKERS: ctx.config.KAFKA_BROKERS, TOPIC_PREFIX: ctx.config.TOPIC_PREFIX };
const tail = async (...args: string[]) => {
  const run = await runNode(t, 'scripts/audit-tail.ts', ['--until-end', ...args], env);
  return {
    code: run.code,
    events: run.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Envelope),
  };
};
const ids = (events: Envelope[]) => events.map((e) => e.eventId);

t.test('one tenant, from the start, each event once, in order', async (t) => {
  const { code, events } = await tail('--tenant', tenantA);
  t.equal(code, 0);
  t.same(ids(events), ids([old[0]!, old[3]!, recent[0]!]), "tenant A's events, the re-send dropped");
});

t.test('everything from a time, or from a position', async (t) => {
  const fromTime = await tail('--since', new Date(hourAgo + 60_000).toISOString());
  t.same(ids(fromTime.events).sort(), ids([...recent, old[3]!]).sort(), 'what reached the log after that time (a re-send too: it is on the log again)');
  const fromPosition = await tail('--from-position', String(old[2]!.globalPosition));
  t.same(ids(fromPosition.events).sort(), ids([old[2]!, old[3]!, ...recent]).sort(), 'positions at or after');
  const bad = await runNode(t, 'scripts/audit-tail.ts', ['--since', 'yesterday'], env);
  t.equal(bad.code, 2, 'a bad time is refused');
});

t.test('follows new events until stopped, and leaves no consumer group behind', async (t) => {
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId);
  const child = spawnNode(t, 'scripts/audit-tail.ts', ['--tenant', tenantB], env);
  await eventually(async () => (child.output().includes(recent[1]!.eventId) ? true : undefined), { timeoutMs: 60_000 });
  const live = envelope(tenantB);
  await send([live], Date.now());
  await eventually(async () => (child.output().includes(live.eventId) ? true : undefined), { timeoutMs: 60_000 });
  const exit = await child.stop();
  t.equal(exit.code, 0, 'SIGTERM ends it cleanly');
  const printed = child
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Envelope);
  t.same(ids(printed), ids([old[1]!, recent[1]!, live]), "tenant B's events as they came");
  const groupsAfter = (await admin.listGroups()).groups.map((g) => g.groupId);
  t.same(
    groupsAfter.filter((g) => g.startsWith('audit-tail-') && !groupsBefore.includes(g)),
    [],
    'its throwaway group was deleted',
  );
});
