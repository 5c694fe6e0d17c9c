// The event store as the consistency boundary: optimistic concurrency per stream, atomic
// multi-stream appends, and global positions that become visible in order.
import t from 'tap';
import { createTestContext } from '../support/harness.ts';
import { append, appendIn, probeEvents } from '../support/backbone-support.ts';
import { createDatabasePool, sql } from '../../core/adapters/db.ts';
import { appendCommands, readStream, WrongExpectedVersionError, type AppendCommand } from '../../core/eventing/event-store.ts';
import { topicOf } from '../../core/adapters/kafka.ts';
import { probeRegistry } from '../support/backbone-support.ts';
import { createTailReader } from '../../core/eventing/tail-reader.ts';

const ctx = await createTestContext(t);

t.test('of 50 concurrent appends expecting the same version, exactly one wins', async (t) => {
  const streamId = 'account-race';
  await append(ctx, [{ streamId, expectedVersion: 0, events: probeEvents('AccountOpened', 1) }]);
  // A pool per writer so that all 50 transactions are really in flight together.
  const pool = await createDatabasePool(ctx.config.DATABASE_URL, { maxPoolSize: 50 });
  t.teardown(() => pool.end());
  const racer = { ...ctx, pool };

  const outcomes = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => append(racer, [{ streamId, expectedVersion: 1, events: [{ type: 'AccountRenamed', data: { writer: i } }] }])),
  );

  const won = outcomes.filter((o) => o.status === 'fulfilled');
  const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  t.equal(won.length, 1, 'one writer succeeds');
  t.equal(lost.length, 49, '49 writers fail');
  t.ok(
    lost.every((e) => e instanceof WrongExpectedVersionError),
    'every loser gets WrongExpectedVersionError',
    {
      other: lost
        .filter((e) => !(e instanceof WrongExpectedVersionError))
        .map(String)
        .slice(0, 3),
    },
  );
  t.ok(
    lost.every((e) => (e as WrongExpectedVersionError).actual === 2),
    'losers are told the stream is now at version 2',
  );

  const events = await readStream(ctx.pool, streamId);
  t.same(
    events.map((e) => e.streamVersion),
    [1, 2],
    'the stream has exactly one new event',
  );
  const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
  t.same(events[1]?.data, winner?.events[0]?.data, "it is the winner's event");
  t.equal(
    Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox o join events e using (global_position) where e.stream_id = ${streamId}`)),
    2,
    'only committed events have outbox rows',
  );
});

t.test('an append to several streams is all or nothing', async (t) => {
  const tenantId = crypto.randomUUID();
  await append(ctx, [{ streamId: 'document-b', expectedVersion: 0, events: probeEvents('DocumentCreated', 2) }], tenantId);
  const before = Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox`));

  const error = await append(
    ctx,
    [
      { streamId: 'document-a', expectedVersion: 0, events: probeEvents('DocumentCreated', 3) },
      { streamId: 'document-b', expectedVersion: 1, events: probeEvents('DocumentRenamed', 1) },
    ],
    tenantId,
  ).then(
    () => undefined,
    (err: unknown) => err,
  );

  t.type(error, WrongExpectedVersionError, 'the conflict on the second stream is reported');
  t.equal((error as WrongExpectedVersionError).streamId, 'document-b');
  t.same(await readStream(ctx.pool, 'document-a'), [], 'the first stream is unchanged');
  t.equal((await readStream(ctx.pool, 'document-b')).length, 2, 'the second stream is unchanged');
  t.equal(Number(await ctx.pool.oneFirst(sql.unsafe`select count(*) from outbox`)), before, 'nothing is queued for publishing');

  const result = await append(
    ctx,
    [
      { streamId: 'document-a', expectedVersion: 0, events: probeEvents('DocumentCreated', 3) },
      { streamId: 'document-b', expectedVersion: 2, events: probeEvents('DocumentRenamed', 1) },
    ],
    tenantId,
  );
  t.same(result.versions, { 'document-a': 3, 'document-b': 3 }, 'with the right versions both streams advance');
  t.equal(result.lastPosition, result.events.at(-1)?.globalPosition, 'the result carries the last position');
  t.equal(typeof result.lastPosition, 'number', 'positions are numbers');
  t.same(JSON.parse(JSON.stringify(result)), result, 'the result is plain JSON, as a command response carries it');
});

t.test('a reader never sees a position while a lower one can still commit', async (t) => {
  // Writers commit concurrently (some roll back); a watcher keeps reading the positions. Every
  // set it sees must be a prefix of the final history: no later commit may fill in below it.
  const writers = 8;
  const rounds = 15;
  let writing = true;
  const seen: number[][] = [];
  const visible = () => ctx.pool.anyFirst(sql.unsafe`select global_position from events where stream_id like 'ordered-%' order by 1`);
  const watcher = (async () => {
    while (writing) seen.push((await visible()).map(Number));
  })();
  const rollback = new Error('rolled back on purpose');
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let round = 0; round < rounds; round++) {
        await ctx.pool
          .transaction(async (tx) => {
            await appendIn(tx, ctx, [{ streamId: `ordered-${w}`, expectedVersion: 'any', events: probeEvents('OrderedProbe', 2) }]);
            await tx.query(sql.unsafe`select pg_sleep(${Math.random() * 0.003})`); // keep the transaction open a moment
            if (round % 5 === 4) throw rollback;
          })
          .catch((err: unknown) => {
            if (err !== rollback) throw err;
          });
      }
    }),
  );
  writing = false;
  await watcher;

  const final = (await visible()).map(Number);
  t.equal(final.length, (writers * rounds * 2 * 4) / 5, 'every committed event is stored, none of the rolled-back ones');
  const notPrefix = seen.filter((positions) => {
    const highest = positions.at(-1) ?? 0;
    const expected = final.filter((p) => p <= highest);
    return expected.length !== positions.length || expected.some((p, i) => p !== positions[i]);
  });
  t.ok(seen.length > 10, `the watcher took ${seen.length} looks while writers were committing`);
  t.same(notPrefix.slice(0, 3), [], 'no look ever missed a position below the highest it saw');

  for (let w = 0; w < writers; w++) {
    const stream = await readStream(ctx.pool, `ordered-${w}`);
    t.ok(
      stream.every((e, i) => i === 0 || e.globalPosition > (stream[i - 1]?.globalPosition ?? 0)),
      `ordered-${w}: positions rise with stream versions`,
    );
  }
});

t.test('concurrent stream reads share one query, and each gets exactly the events after the version it knows', async (t) => {
  await append(ctx, [{ streamId: 'tails-a', expectedVersion: 0, events: probeEvents('AccountOpened', 3) }]);
  await append(ctx, [{ streamId: 'tails-b', expectedVersion: 0, events: probeEvents('AccountOpened', 2) }]);
  let queries = 0;
  const counting = new Proxy(ctx.pool, {
    get: (target, property, receiver) => {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== 'any' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        queries += 1;
        return Reflect.apply(value, target, args);
      };
    },
  });
  const reader = createTailReader(counting, { inFlight: 1 });
  const versions = async (tails: Parameters<typeof reader.read>[0]) =>
    Object.fromEntries([...(await reader.read(tails))].map(([id, events]) => [id, events.map((e) => e.streamVersion)]));
  // The first read goes at once; the three asked while it is on its way go together as the second.
  const answers = await Promise.all([
    versions([{ streamId: 'tails-a', after: 0 }]),
    versions([{ streamId: 'tails-a', after: 2 }]),
    versions([
      { streamId: 'tails-a', after: 1 },
      { streamId: 'tails-b', after: 0 },
    ]),
    versions([{ streamId: 'tails-none', after: 0 }]),
  ]);
  t.same(answers, [{ 'tails-a': [1, 2, 3] }, { 'tails-a': [3] }, { 'tails-a': [2, 3], 'tails-b': [1, 2] }, { 'tails-none': [] }]);
  t.equal(queries, 2, 'four reads, two queries');
});

t.test('a batch of commands is decided in order: each sees what the ones before it appended', async (t) => {
  const tenantId = crypto.randomUUID();
  const [s, u, v] = ['document-batch-s', 'document-batch-u', 'document-batch-v'];
  await append(ctx, [{ streamId: v, expectedVersion: 0, events: probeEvents('DocumentCreated', 1) }], tenantId);
  const context = () => ({ tenantId, actor: 'user-probe', correlationId: crypto.randomUUID(), causationId: null, occurredAt: new Date() });
  const command = (appends: AppendCommand['appends'], idempotencyKey?: string): AppendCommand => ({
    appends,
    context: context(),
    ...(idempotencyKey ? { idempotency: { actor: 'user-probe', key: idempotencyKey, hash: 'h', statusCode: 200, body: { ok: true } } } : {}),
  });
  const outcomes = await appendCommands(
    ctx.pool,
    [
      command([{ streamId: s, expectedVersion: 0, events: probeEvents('DocumentCreated', 2) }]),
      // Sees the first command's two events.
      command([{ streamId: s, expectedVersion: 2, events: probeEvents('DocumentRenamed', 1) }], 'batch-key-1'),
      // Decided on the stream as it was before the batch: refused, nothing of it written.
      command([
        { streamId: u, expectedVersion: 0, events: probeEvents('DocumentCreated', 1) },
        { streamId: s, expectedVersion: 0, events: probeEvents('DocumentRenamed', 1) },
      ]),
      // Only checks s (and appends nothing): it is at 3 now.
      command([{ streamId: s, expectedVersion: 3, events: [] }], 'batch-key-2'),
      command([
        { streamId: u, expectedVersion: 'any', events: probeEvents('DocumentCreated', 1) },
        { streamId: v, expectedVersion: 1, events: probeEvents('DocumentRenamed', 2) },
        { streamId: s, expectedVersion: 3, events: [] },
      ]),
    ],
    probeRegistry,
    topicOf(ctx.config.TOPIC_PREFIX),
  );

  t.same(
    outcomes.map((o) => o.status),
    ['ok', 'ok', 'conflict', 'ok', 'ok'],
  );
  const conflict = outcomes[2]?.status === 'conflict' ? outcomes[2].error : undefined;
  t.match(conflict, { streamId: s, expected: 0, actual: 3 }, 'the refused command is told the version its predecessors left');
  const ok = outcomes.map((o) => (o.status === 'ok' ? o.result : undefined));
  t.same(ok[0]?.versions, { [s]: 2 });
  t.same(ok[1]?.versions, { [s]: 3 });
  t.same(ok[3]?.versions, { [s]: 3 }, 'a check-only command answers the version it checked');
  t.same(ok[3]?.events, [], 'and appends nothing');
  t.same(ok[4]?.versions, { [u]: 1, [v]: 3, [s]: 3 }, 'the refused command appended nothing to u');

  const positions = ok.flatMap((r) => r?.events.map((e) => e.globalPosition) ?? []);
  t.equal(positions.length, 6, 'six events appended');
  t.ok(
    positions.every((p, i) => i === 0 || p > positions[i - 1]!),
    'positions rise in command, stream and event order',
  );
  t.same(
    (await readStream(ctx.pool, s)).map((e) => [e.streamVersion, e.type, e.globalPosition]),
    [
      [1, 'DocumentCreated', positions[0]],
      [2, 'DocumentCreated', positions[1]],
      [3, 'DocumentRenamed', positions[2]],
    ],
  );
  t.same(
    (await readStream(ctx.pool, v)).map((e) => e.streamVersion),
    [1, 2, 3],
  );
  t.same(
    (await readStream(ctx.pool, u)).map((e) => e.globalPosition),
    [positions[3]],
  );
  const outbox = await ctx.pool.oneFirst(
    sql.unsafe`select json_agg(json_build_array(global_position, topic, message_key) order by global_position)
                 from outbox where global_position = any(${sql.array(positions, 'int8')})`,
  );
  t.same(
    outbox,
    positions.map((p) => [p, topicOf(ctx.config.TOPIC_PREFIX)('documents'), tenantId]),
    'one outbox row per event, on its topic, keyed by the tenant',
  );
  const answers = await ctx.pool.oneFirst(
    sql.unsafe`select json_agg(json_build_array(key, response) order by key)
                 from idempotency_keys where actor = 'user-probe' and key in ('batch-key-1', 'batch-key-2')`,
  );
  t.same(
    answers,
    [
      ['batch-key-1', { ok: true, position: positions[2] }],
      ['batch-key-2', { ok: true, position: 0 }],
    ],
    "each Idempotency-Key answer carries its command's last position",
  );
});
