// A log written by older code: UserPasswordChanged at version 1 (no client), then the shape
// changed to version 2. Everything that reads events sees version 2: the command path folding
// the user's stream, the audit projection, and a rebuild reading the Kafka log; the log itself
// (events table and Kafka) keeps what was written.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestContext, eventually } from './support/harness.ts';
import { readLog, startTestRelay, unpublishedCount } from './support/backbone-support.ts';
import { appendToStreams, type StoredEvent } from '../core/eventing/event-store.ts';
import { domainEventRegistry } from '../core/eventing/event-registry.ts';
import { createEventStreams, decision, executeCommand, loadAggregate } from '../core/eventing/command-handler.ts';
import { bufferingBuilder, type RebuildSpec } from '../core/eventing/rebuild.ts';
import { rebuildOne } from '../core/eventing/rebuild-runner.ts';
import { sql } from '../core/adapters/db.ts';
import { topicOf } from '../core/adapters/kafka.ts';
import { LATEST } from '../core/eventing/projector.ts';
import { auditProjection } from '../projectors/main/projection.ts';
import { userDecider, userStreamId, type UserEvent, type UserState } from '../domain/user/index.ts';
import { currentSchemaVersion } from '../domain/events.ts';
import { legacySealed } from '../domain/shared/personal-data.ts';

const ctx = await createTestContext(t);
const userId = randomUUID();
const streamId = userStreamId(userId);
const changedAt = '2024-06-01T10:00:00.000Z';

// What the code before this change wrote: the same event type at schemaVersion 1 (inserted as
// such: today's append refuses data that does not match the current schema).
await ctx.pool.transaction(async (tx) => {
  await appendToStreams(
    tx,
    [
      {
        streamId,
        expectedVersion: 0,
        // Personal fields are sealed on the log; a legacy envelope is what a reader can open without a key.
        events: [
          {
            type: 'UserRegistered',
            data: { userId, email: legacySealed('old@example.com'), displayName: legacySealed('Old'), registeredAt: '2024-01-01T00:00:00.000Z' },
          },
        ],
      },
    ],
    { tenantId: null, actor: userId, correlationId: randomUUID(), causationId: null, occurredAt: new Date(changedAt) },
    domainEventRegistry,
    topicOf(ctx.config.TOPIC_PREFIX),
  );
  const position = await tx.oneFirst(sql.unsafe`
    insert into events (event_id, stream_id, stream_version, type, schema_version, category, tenant_id, data, actor, correlation_id, causation_id, occurred_at)
    values (${randomUUID()}, ${streamId}, 2, 'UserPasswordChanged', 1, 'platform', null, ${sql.jsonb({ userId, changedAt })}, ${userId}, ${randomUUID()}, null, ${changedAt})
    returning global_position`);
  await tx.query(sql.unsafe`insert into outbox (global_position, topic, message_key) values (${Number(position)}, ${ctx.topics.platform}, ${streamId})`);
});
// Version 2 added the client (none then); the current version seals it (domain/upcasters.ts).
const current = currentSchemaVersion('UserPasswordChanged');
const v2 = { userId, changedAt, client: legacySealed(null) };

t.test('the events table keeps version 1 as written', async (t) => {
  const row = await ctx.pool.one(sql.unsafe`select schema_version, data from events where type = 'UserPasswordChanged'`);
  t.same(row, { schema_version: 1, data: { userId, changedAt } });
});

t.test('the command path folds version 2', async (t) => {
  const seen: UserEvent[] = [];
  const watching = {
    ...userDecider,
    evolve: (state: UserState, event: UserEvent) => {
      seen.push(event);
      return userDecider.evolve(state, event);
    },
  };
  const store = createEventStreams(ctx.pool, domainEventRegistry, topicOf(ctx.config.TOPIC_PREFIX));
  await executeCommand(
    store,
    [
      decision(watching, streamId, (state: UserState) => ({
        type: 'UpdateProfile' as const,
        data: { userId, actorId: userId, displayName: state.status === 'registered' ? state.displayName : 'x', now: changedAt },
      })),
    ],
    { tenantId: null, actor: userId, correlationId: randomUUID(), causationId: null, occurredAt: new Date() },
    { respond: () => undefined },
  );
  t.same(seen.find((e) => e.type === 'UserPasswordChanged')?.data, { userId, changedAt, client: null }, 'the decider saw the current shape, opened');
  const { state } = await loadAggregate(ctx.pool, streamId, userDecider);
  t.match(state, { status: 'registered', passwordChangedAt: changedAt });
});

t.test('the audit projection stores version 2', async (t) => {
  await auditProjection(ctx.pool, ctx.topics).catchUp('audit', LATEST);
  const entry = await ctx.pool.one(sql.unsafe`select schema_version, data from audit_log where type = 'UserPasswordChanged'`);
  t.same(entry, { schema_version: current, data: v2 });
});

t.test('a rebuild from the Kafka log sees version 2, while Kafka keeps version 1', async (t) => {
  await startTestRelay(ctx, t);
  await eventually(async () => ((await unpublishedCount(ctx)) === 0 ? true : undefined));
  const applied: StoredEvent[] = [];
  const apply: RebuildSpec['apply'] = async (_tx, event) => {
    applied.push(event);
  };
  await rebuildOne({
    eventLog: ctx.eventLog,
    db: ctx.pool,
    logger: ctx.logger,
    groupId: `${ctx.config.TOPIC_PREFIX}upcasting-rebuild`,
    spec: {
      name: 'upcasting-test',
      tables: [],
      checkpointKey: 'upcasting-test',
      topics: [ctx.topics.platform],
      belongs: () => true,
      createBuilder: () => bufferingBuilder(apply),
      apply,
      loadAfter: async () => [],
    },
  });
  const changed = applied.find((e) => e.type === 'UserPasswordChanged');
  t.equal(changed?.schemaVersion, current);
  t.same(changed?.data, v2);
  const onKafka = (await (await readLog(ctx, t, [ctx.topics.platform])).until(2)).find((m) => m.event.type === 'UserPasswordChanged');
  t.equal(onKafka?.headers['schema-version'], '1', 'the message on Kafka is the one written');
  t.same(onKafka?.event.data, { userId, changedAt });
});
