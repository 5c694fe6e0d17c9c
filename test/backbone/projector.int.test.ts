// Projectors are effectively-once: crashes on either side of the read-model commit, a scope that
// cannot apply an event, and consumer-group rebalances never lose or repeat an event.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestContext, eventually } from '../support/harness.ts';
import {
  append,
  consumerGroupProbe,
  counterTotal,
  probeEvents,
  readLog,
  spawnFixture,
  startTestRelay,
  tenantsSharingAPartition,
  unpublishedCount,
} from '../support/backbone-support.ts';
import { createProbeTables, probeProjection, readProbe, replayProbe, storedPositions, type Scoping } from '../support/backbone-projection.ts';
import { sql } from '../../core/adapters/db.ts';
import { createMetrics, type Metrics } from '../../core/adapters/metrics.ts';
import { checkpointOf, startProjector, type Projector } from '../../core/eventing/projector.ts';

const ctx = await createTestContext(t);
await startTestRelay(ctx, t);
const kafka = await consumerGroupProbe(ctx, t);

/** The test projection in this process, stopped (once) when `t` ends if the test did not stop it. */
async function startProbeProjector(t: Test, name: string, scoping: Scoping, groupId: string, metrics: Metrics): Promise<Projector> {
  const projector = await startProjector({
    eventLog: ctx.eventLog,
    projection: probeProjection({ pool: ctx.pool, topics: ctx.topics, name, scoping }),
    groupId,
    logger: ctx.logger,
    metrics,
    sweepIntervalMs: 200,
    onFatal: (err) => t.fail(`consumer crashed: ${err.message}`),
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= projector.stop());
  t.teardown(stop);
  return { ...projector, stop };
}

/** Every documents event is applied once: the log has each position, and the model equals a fresh replay. */
async function assertExactlyOnce(t: Test, name: string): Promise<void> {
  const live = await readProbe(ctx.pool, name);
  t.same(live.logged, await storedPositions(ctx.pool), 'each event is applied exactly once');
  t.same(live, await replayProbe(ctx.pool, name), 'the read model equals a fresh replay');
}

const caughtUp = (groupId: string) =>
  eventually(async () => ((await unpublishedCount(ctx)) === 0 && (await kafka.lag(groupId, ctx.topics.documents)) === 0 ? true : undefined), {
    timeoutMs: 45_000,
  });

t.test('a projector killed before or after its commit resumes without losing or repeating an event', async (t) => {
  await createProbeTables(ctx.pool, 'crash');
  const tenants = [randomUUID(), randomUUID(), randomUUID()];
  for (const [i, tenantId] of tenants.entries()) {
    await append(ctx, [{ streamId: `crash-${i}-a`, expectedVersion: 0, events: probeEvents('DocumentCreated', 12) }], tenantId);
    await append(ctx, [{ streamId: `crash-${i}-b`, expectedVersion: 0, events: probeEvents('DocumentCreated', 10) }], tenantId);
  }
  await eventually(async () => (await unpublishedCount(ctx)) === 0 || undefined);
  const groupId = `${ctx.id}.crash`;
  const env = { ...ctx.env, PROBE_NAME: 'crash', PROBE_SCOPING: 'main', PROBE_GROUP: groupId };

  const before = spawnFixture(t, 'backbone-projector-process.ts', { ...env, LEDGERLINE_FAILPOINTS: 'projector-before-commit' });
  t.same(await before.exited, { code: null, signal: 'SIGKILL' }, 'the projector died inside its transaction', { output: before.output() });
  t.same((await readProbe(ctx.pool, 'crash')).logged, [], 'nothing of that transaction remains');
  t.equal(await checkpointOf(ctx.pool, 'crash:main'), 0, 'the checkpoint did not move');

  const after = spawnFixture(t, 'backbone-projector-process.ts', { ...env, LEDGERLINE_FAILPOINTS: 'projector-after-commit' });
  t.same(await after.exited, { code: null, signal: 'SIGKILL' }, 'the next one died after its commit', { output: after.output() });
  const applied = await readProbe(ctx.pool, 'crash');
  t.ok(applied.logged.length > 0, `its read-model changes stayed (${applied.logged.length} events)`);
  t.equal(await checkpointOf(ctx.pool, 'crash:main'), applied.logged.at(-1), 'together with its checkpoint');
  t.equal(await kafka.lag(groupId, ctx.topics.documents), (await storedPositions(ctx.pool)).length, 'but Kafka never saw the batch committed');

  await append(ctx, [{ streamId: 'crash-0-a', expectedVersion: 12, events: probeEvents('DocumentRenamed', 3, 13) }], tenants[0]!);
  const metrics = createMetrics();
  await startProbeProjector(t, 'crash', 'main', groupId, metrics);
  await caughtUp(groupId);
  await assertExactlyOnce(t, 'crash');
  t.equal(await counterTotal(metrics, 'projector_scope_failures_total'), 0, 'redelivered events were recognised, not applied again');
});

t.test('a tenant stuck on an event it cannot apply does not hold back the tenants of its partition', async (t) => {
  await createProbeTables(ctx.pool, 'poison');
  const [stuck, healthy] = tenantsSharingAPartition(2, ctx.config.TOPIC_PARTITIONS) as [string, string];
  await ctx.pool.query(sql.unsafe`insert into probe_poison (stream_id) values ('poison-stuck-bad')`);
  const reader = await readLog(ctx, t, [ctx.topics.documents]);
  const groupId = `${ctx.id}.poison`;
  const projector = await startProbeProjector(t, 'poison', 'tenant', groupId, createMetrics());

  await append(ctx, [{ streamId: 'poison-stuck-ok', expectedVersion: 0, events: probeEvents('DocumentCreated', 2) }], stuck);
  await append(ctx, [{ streamId: 'poison-stuck-bad', expectedVersion: 0, events: probeEvents('DocumentCreated', 1) }], stuck);
  await append(ctx, [{ streamId: 'poison-healthy', expectedVersion: 0, events: probeEvents('DocumentCreated', 3) }], healthy);
  await append(ctx, [{ streamId: 'poison-stuck-after', expectedVersion: 0, events: probeEvents('DocumentCreated', 2) }], stuck);
  await append(ctx, [{ streamId: 'poison-healthy', expectedVersion: 3, events: probeEvents('DocumentRenamed', 2, 4) }], healthy);
  const partitions = new Set(
    (await reader.until((await storedPositions(ctx.pool)).length)).filter((m) => m.event.streamId.startsWith('poison-')).map((m) => m.partition),
  );
  t.equal(partitions.size, 1, 'both tenants share one Kafka partition');

  const countsOf = async () => Object.fromEntries((await readProbe(ctx.pool, 'poison')).counts.map((c) => [c.stream_id, c.events]));
  await caughtUp(groupId);
  await eventually(async () => (await countsOf())['poison-healthy'] === 5 || undefined);
  t.match(projector.status()[stuck], { state: 'failed', error: /cannot apply DocumentCreated of poison-stuck-bad/ }, 'the stuck tenant is set aside');
  t.notOk(projector.status()[healthy], 'the healthy tenant is not');
  const counts = await countsOf();
  t.equal(counts['poison-healthy'], 5, 'the healthy tenant has all its events, including those after the poison event');
  t.notOk(counts['poison-stuck-bad'] ?? counts['poison-stuck-after'], 'the stuck tenant applied nothing from the poison event on');

  // Kafka offsets have moved past the poison event; a restarted projector must still find the tenant.
  await projector.stop();
  const restarted = await startProbeProjector(t, 'poison', 'tenant', groupId, createMetrics());
  t.equal(restarted.status()[stuck]?.state, 'failed', 'after a restart the stuck tenant is set aside again');

  await ctx.pool.query(sql.unsafe`delete from probe_poison`);
  await eventually(async () => (await countsOf())['poison-stuck-after'] === 2 || undefined);
  await eventually(async () => Object.keys(restarted.status()).length === 0 || undefined);
  t.pass('once the cause is gone the stuck tenant catches up by itself and is no longer set aside');
  await assertExactlyOnce(t, 'poison');
});

t.test('two projector instances in one group share the work across rebalances without loss or repeats', async (t) => {
  await createProbeTables(ctx.pool, 'pair');
  const groupId = `${ctx.id}.pair`;
  const tenants = Array.from({ length: 6 }, () => randomUUID());
  const write = async (rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      for (const [i, tenantId] of tenants.entries()) {
        await append(ctx, [{ streamId: `pair-${i}`, expectedVersion: 'any', events: probeEvents('DocumentEdited', 2) }], tenantId);
      }
    }
  };
  const [firstMetrics, secondMetrics] = [createMetrics(), createMetrics()];
  const first = await startProbeProjector(t, 'pair', 'tenant', groupId, firstMetrics);
  await write(3);
  await caughtUp(groupId);

  const second = await startProbeProjector(t, 'pair', 'tenant', groupId, secondMetrics);
  await Promise.all([write(3), eventually(async () => (await kafka.members(groupId)) === 2 || undefined, { timeoutMs: 30_000 })]);
  await write(3);
  await Promise.all([write(3), first.stop()]);
  await write(1);
  await caughtUp(groupId);
  await eventually(async () => (await readProbe(ctx.pool, 'pair')).logged.length === (await storedPositions(ctx.pool)).length || undefined);

  await assertExactlyOnce(t, 'pair');
  t.ok(
    (await counterTotal(firstMetrics, 'projector_batches_total')) > 0 && (await counterTotal(secondMetrics, 'projector_batches_total')) > 0,
    'both instances did work',
  );
  t.equal(
    (await counterTotal(firstMetrics, 'projector_scope_failures_total')) + (await counterTotal(secondMetrics, 'projector_scope_failures_total')),
    0,
    'no catch-up ever failed (a double apply would have)',
  );
  t.same(second.status(), {}, 'nothing is set aside');
});
