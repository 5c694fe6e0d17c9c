// The outbox relay: what reaches Kafka (topic, key, order, envelope), and that a transaction
// committing late is neither skipped nor overtaken.
import t, { type Test } from 'tap';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { createTestContext, eventually, type TestContext } from '../support/harness.ts';
import { append, appendIn, probeEvents, readLog, startTestRelay, unpublishedCount, type LoggedMessage } from '../support/backbone-support.ts';
import { sql, withDatabase } from '../../core/adapters/db.ts';
import type { AppendResult } from '../../core/eventing/event-store.ts';

const ctx = await createTestContext(t);
const positionsOf = (messages: LoggedMessage[], prefix: string) =>
  messages.filter((m) => m.event.streamId.startsWith(prefix)).map((m) => m.event.globalPosition);

t.test('appended events reach their topic keyed by tenant (or stream), in order, with the full envelope', async (t) => {
  const relay = await startTestRelay(ctx, t);
  const reader = await readLog(ctx, t, [ctx.topics.platform, ctx.topics.documents]);
  const [tenantX, tenantY] = [randomUUID(), randomUUID()];
  const results = [
    await append(ctx, [{ streamId: 'account-1', expectedVersion: 0, events: probeEvents('AccountOpened', 3) }]),
    await append(
      ctx,
      [
        { streamId: 'document-x1', expectedVersion: 0, events: probeEvents('DocumentCreated', 2) },
        { streamId: 'document-x2', expectedVersion: 0, events: probeEvents('DocumentCreated', 2) },
      ],
      tenantX,
    ),
    await append(ctx, [{ streamId: 'document-y1', expectedVersion: 0, events: probeEvents('DocumentCreated', 3) }], tenantY),
    await append(ctx, [{ streamId: 'account-2', expectedVersion: 0, events: probeEvents('AccountOpened', 2) }]),
    await append(ctx, [{ streamId: 'document-x1', expectedVersion: 2, events: probeEvents('DocumentRenamed', 1, 3) }], tenantX),
  ];
  const stored = results.flatMap((r) => r.events);
  const messages = await reader.until(stored.length);
  t.ok(relay.isLeader(), 'the relay took the leadership');
  t.equal(messages.length, stored.length, 'each event is published once');

  for (const event of stored) {
    const message = messages.find((m) => m.event.eventId === event.eventId);
    const { category } = event;
    t.same(
      message && { topic: message.topic, key: message.key, envelope: message.event },
      {
        topic: category === 'documents' ? ctx.topics.documents : ctx.topics.platform,
        key: event.tenantId ?? event.streamId,
        envelope: event,
      },
      `${event.streamId}@${event.streamVersion}: topic, key and envelope`,
    );
  }
  const sample = messages.find((m) => m.event.tenantId === tenantX);
  t.match(
    sample?.event,
    {
      eventId: /^[0-9a-f-]{36}$/,
      type: 'DocumentCreated',
      schemaVersion: 1,
      streamId: String,
      streamVersion: Number,
      globalPosition: Number,
      tenantId: tenantX,
      occurredAt: /^\d{4}-\d\d-\d\dT/,
      actor: 'user-probe',
      correlationId: /^[0-9a-f-]{36}$/,
      causationId: null,
    },
    'the envelope carries every field of DESIGN.md',
  );
  t.same(
    sample?.headers,
    {
      'event-type': sample?.event.type,
      'schema-version': '1',
      'event-id': sample?.event.eventId,
      'global-position': String(sample?.event.globalPosition),
      'tenant-id': tenantX,
    },
    'headers let consumers route without parsing',
  );

  const partitions = new Map<string, LoggedMessage[]>();
  for (const m of messages) partitions.set(`${m.topic}/${m.partition}`, [...(partitions.get(`${m.topic}/${m.partition}`) ?? []), m]);
  for (const [partition, inPartition] of partitions) {
    const byOffset = inPartition.toSorted((a, b) => a.offset - b.offset).map((m) => m.event.globalPosition);
    t.same(
      byOffset,
      byOffset.toSorted((a, b) => a - b),
      `${partition}: offsets follow global positions`,
    );
  }
  const partitionsOfKey = new Map<string, Set<string>>();
  for (const m of messages) partitionsOfKey.set(m.key ?? '', (partitionsOfKey.get(m.key ?? '') ?? new Set()).add(`${m.topic}/${m.partition}`));
  t.ok(
    [...partitionsOfKey.values()].every((s) => s.size === 1),
    'all events of one key are in one partition',
  );
  await eventually(async () => ((await unpublishedCount(ctx)) === 0 ? true : undefined));
});

t.test('an append waits for an open one, and both are published in commit order', async (t) => {
  await startTestRelay(ctx, t);
  const reader = await readLog(ctx, t, [ctx.topics.platform]);
  await append(ctx, [{ streamId: 'late-0', expectedVersion: 0, events: probeEvents('AccountOpened', 1) }]);

  let commitFirst = () => {};
  const firstAppended = Promise.withResolvers<AppendResult>();
  const first = ctx.pool.transaction(async (tx) => {
    firstAppended.resolve(await appendIn(tx, ctx, [{ streamId: 'late-1', expectedVersion: 0, events: probeEvents('AccountOpened', 2) }]));
    await new Promise<void>((resolve) => {
      commitFirst = resolve;
    });
  });
  const firstResult = await firstAppended.promise;
  let secondDone = false;
  const second = append(ctx, [{ streamId: 'late-2', expectedVersion: 0, events: probeEvents('AccountOpened', 2) }]).finally(() => {
    secondDone = true;
  });

  await eventually(async () => (await appendersWaiting(ctx)) === 1 || undefined);
  t.notOk(secondDone, 'the second append is parked on the append lock while the first transaction is open');
  await eventually(async () => positionsOf(reader.messages, 'late-0').length === 1 || undefined);
  t.same(
    positionsOf(reader.messages, 'late-'),
    positionsOf(reader.messages, 'late-0'),
    'events committed before are published meanwhile; nothing of the open or the waiting transaction',
  );

  commitFirst();
  await first;
  const secondResult = await second;
  t.ok(secondResult.events[0]!.globalPosition > firstResult.lastPosition, 'the waiting append draws its positions after the first committed');
  await eventually(async () => positionsOf(reader.messages, 'late-').length === 5 || undefined);
  t.same(
    positionsOf(reader.messages, 'late-'),
    [...positionsOf(reader.messages, 'late-0'), ...firstResult.events.map((e) => e.globalPosition), ...secondResult.events.map((e) => e.globalPosition)],
    'the late commit is published before what committed after it, nothing skipped',
  );
});

t.test('a transaction left open elsewhere on the server holds back nothing, and a late row is still published', async (t) => {
  await startTestRelay(ctx, t);
  const reader = await readLog(ctx, t, [ctx.topics.platform]);
  // An idle transaction that holds a transaction id, as a long report or migration would: in another
  // database and in this one. (A snapshot's xmin is cluster-wide, so an xmin guard would stall here.)
  const elsewhere = await rawClient(ctx, t, withDatabase(ctx.config.DATABASE_URL, 'postgres'));
  const here = await rawClient(ctx, t);
  for (const client of [elsewhere, here]) {
    await client.query('begin');
    await client.query('select pg_current_xact_id()');
  }
  const meanwhile = await append(ctx, [{ streamId: 'idle-meanwhile', expectedVersion: 0, events: probeEvents('AccountOpened', 2) }]);
  await eventually(async () => positionsOf(reader.messages, 'idle-').length === 2 || undefined);
  t.same(
    positionsOf(reader.messages, 'idle-'),
    meanwhile.events.map((e) => e.globalPosition),
    'events are published while the other transactions stay open',
  );

  // A writer that bypasses appendToStreams' lock and commits late: the relay marks rows one by one
  // (published_at), not by a high-water mark, so the late row is published once it commits.
  // (Its position order is not guaranteed: only the append lock gives that.)
  const late = await rawClient(ctx, t);
  await late.query('begin');
  const latePosition = await rawInsert(late, 'idle-late');
  const after = await append(ctx, [{ streamId: 'idle-after', expectedVersion: 0, events: probeEvents('AccountOpened', 1) }]);
  await eventually(async () => positionsOf(reader.messages, 'idle-after').length === 1 || undefined);
  t.ok(after.lastPosition > latePosition, 'a later position was published while the late row was uncommitted');
  await late.query('commit');
  await eventually(async () => positionsOf(reader.messages, 'idle-late').length === 1 || undefined);
  t.same(positionsOf(reader.messages, 'idle-late'), [latePosition], 'the late row is published once it commits, not skipped');
  await eventually(async () => (await unpublishedCount(ctx)) === 0 || undefined);
  t.pass('nothing is left behind in the outbox');
  for (const client of [elsewhere, here]) await client.query('rollback');
});

async function appendersWaiting(ctx: TestContext): Promise<number> {
  return Number(
    await ctx.pool.oneFirst(sql.unsafe`
    select count(*) from pg_locks where locktype = 'advisory' and not granted
      and database = (select oid from pg_database where datname = current_database())`),
  );
}

async function rawClient(ctx: TestContext, t: Test, connectionString = ctx.config.DATABASE_URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  t.teardown(() => client.end().catch(() => {}));
  return client;
}

/** An event and its outbox row written with plain SQL, without appendToStreams' lock. */
async function rawInsert(client: pg.Client, streamId: string): Promise<number> {
  const { rows } = await client.query<{ global_position: string }>(
    `
    insert into events (event_id, stream_id, stream_version, type, schema_version, category, data, correlation_id, occurred_at)
    values (gen_random_uuid(), $1, 1, 'AccountOpened', 1, 'platform', '{}', gen_random_uuid(), now()) returning global_position`,
    [streamId],
  );
  const position = Number(rows[0]?.global_position);
  await client.query('insert into outbox (global_position, topic, message_key) values ($1, $2, $3)', [position, ctx.topics.platform, streamId]);
  return position;
}
