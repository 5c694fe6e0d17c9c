// A relay that dies after Kafka acknowledged a batch but before it marked the rows sent: the next
// relay sends them again, and a projection still counts every event exactly once.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestContext, eventually } from '../support/harness.ts';
import { append, consumerGroupProbe, counterTotal, probeEvents, readLog, spawnFixture, startTestRelay, unpublishedCount } from '../support/backbone-support.ts';
import { createProbeTables, probeProjection, readProbe, replayProbe, storedPositions } from '../support/backbone-projection.ts';
import { checkpointOf, startProjector } from '../../core/eventing/projector.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';

const ctx = await createTestContext(t);

t.test('a relay killed between send and mark re-sends; the projection counts each event once', async (t) => {
  await createProbeTables(ctx.pool, 'probe');
  const tenants = [randomUUID(), randomUUID(), randomUUID()];
  for (const [i, tenantId] of tenants.entries()) {
    await append(ctx, [{ streamId: `document-${i}-a`, expectedVersion: 0, events: probeEvents('DocumentCreated', 4) }], tenantId);
    await append(
      ctx,
      [
        { streamId: `document-${i}-a`, expectedVersion: 4, events: probeEvents('DocumentRenamed', 2, 5) },
        { streamId: `document-${i}-b`, expectedVersion: 0, events: probeEvents('DocumentCreated', 3) },
      ],
      tenantId,
    );
  }
  const positions = await storedPositions(ctx.pool);
  const reader = await readLog(ctx, t, [ctx.topics.documents]);

  const crashed = spawnFixture(t, 'backbone-relay-process.ts', { ...ctx.env, LEDGERLINE_FAILPOINTS: 'relay-after-send' });
  t.same(await crashed.exited, { code: null, signal: 'SIGKILL' }, 'the relay died at its failpoint', { output: crashed.output() });
  t.equal(await unpublishedCount(ctx), positions.length, 'no outbox row was marked as published');
  const sentOnce = await reader.until(positions.length);
  t.same(
    sentOnce.map((m) => m.event.globalPosition).toSorted((a, b) => a - b),
    positions,
    'yet Kafka already has every event',
  );

  await startTestRelay(ctx, t);
  await eventually(async () => (await unpublishedCount(ctx)) === 0 || undefined);
  const all = await reader.until(2 * positions.length);
  t.equal(all.length, 2 * positions.length, 'the next relay sent them all again: Kafka holds each event twice');
  for (const partition of new Set(all.map((m) => m.partition))) {
    const inPartition = all
      .filter((m) => m.partition === partition)
      .toSorted((a, b) => a.offset - b.offset)
      .map((m) => m.event.globalPosition);
    const half = inPartition.length / 2;
    t.same(inPartition.slice(half), inPartition.slice(0, half), `partition ${partition}: the second copy repeats the first in the same order`);
  }

  const metrics = createMetrics();
  const projector = await startProjector({
    eventLog: ctx.eventLog,
    projection: probeProjection({ pool: ctx.pool, topics: ctx.topics, name: 'probe', scoping: 'main' }),
    groupId: `${ctx.id}.probe`,
    logger: ctx.logger,
    metrics,
    sweepIntervalMs: 200,
    onFatal: (err) => t.fail(`consumer crashed: ${err.message}`),
  });
  t.teardown(() => projector.stop());
  // Judge once the consumer has worked through the duplicates too, not just reached the last position.
  const group = await consumerGroupProbe(ctx, t);
  await eventually(async () => (await group.lag(`${ctx.id}.probe`, ctx.topics.documents)) === 0 || undefined, { timeoutMs: 30_000 });
  t.equal(await checkpointOf(ctx.pool, 'probe:main'), positions.at(-1), 'the projection reached the last position');

  const live = await readProbe(ctx.pool, 'probe');
  t.same(live.logged, positions, 'each event is applied exactly once');
  t.same(live, await replayProbe(ctx.pool, 'probe'), 'the read model equals a fresh replay');
  t.same(projector.status(), {}, 'no scope was set aside');
  t.equal(await counterTotal(metrics, 'projector_scope_failures_total'), 0, 'no catch-up failed (a double apply would have)');
});
