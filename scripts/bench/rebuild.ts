// Benchmark: `npm run rebuild -- --tenant` on a tenant with 100,000 events (goal: <= 5 s here).
// Seeds the events with one set-based INSERT into the event store and outbox (the real envelope:
// the relay publishes them, keyed by tenant id), then times the rebuild of that tenant beside a
// bare read of the same partition with kafkajs (the floor any rebuild stands on).
//   node scripts/bench/rebuild.ts        prints events/s and one JSON line
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../core/adapters/config.ts';
import { createDatabasePool, sql, withDatabase } from '../../core/adapters/db.ts';
import { migrate, MAIN_MIGRATIONS } from '../../core/adapters/migrate.ts';
import { createEventLog, topicNames } from '../../core/adapters/kafka.ts';
import { createLogger } from '../../core/adapters/logger.ts';
import { createMetrics } from '../../core/adapters/metrics.ts';
import { startRelay } from '../../core/eventing/relay.ts';
import { rebuildOne } from '../../core/eventing/rebuild-runner.ts';
import { provisionTenantDatabase } from '../../projectors/provisioner/provision.ts';
import { tenantRebuild } from '../../projectors/shared/rebuild-specs.ts';
import pg from 'pg';
import type { BenchResult } from './result.ts';

const DOCUMENTS = 20_000; // x (FileStored, DocumentAttached, DocumentCreated, 2 x DocumentUpdated) = 100,000 events

/** The scenario for `npm run bench`: needs no running stack (it seeds its own database and topics). */
/** Runs SQL on the server as the configured user (creating and dropping the bench's databases). */
async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: loadConfig({ ...process.env, NODE_ENV: 'test' }).DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function benchRebuild(options: { documents?: number } = {}): Promise<BenchResult[]> {
  const documents = options.documents ?? Number(process.env.BENCH_REBUILD_DOCUMENTS ?? DOCUMENTS);
  const id = `bench${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const base = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: withDatabase(base.DATABASE_URL, `ll_${id}`),
    TOPIC_PREFIX: `${id}.`,
  });
  const logger = createLogger('bench-rebuild', config);
  const tenantId = randomUUID();
  const tenantDb = `tenant_bench_${tenantId.slice(0, 8)}`;
  await adminQuery(`create database ll_${id}`);
  const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: id, logger });
  const topics = topicNames(config.TOPIC_PREFIX);
  const pool = await createDatabasePool(config.DATABASE_URL, { maxPoolSize: 4 });
  let tenantPool: Awaited<ReturnType<typeof createDatabasePool>> | undefined;
  try {
    await migrate(config.DATABASE_URL, MAIN_MIGRATIONS);
    await eventLog.ensureTopics(Object.values(topics), config.TOPIC_PARTITIONS);
    await provisionTenantDatabase(config.DATABASE_URL, tenantDb, logger);
    tenantPool = await createDatabasePool(withDatabase(config.DATABASE_URL, tenantDb), { maxPoolSize: 2 });
    await pool.query(sql.unsafe`
      insert into tenants (tenant_id, name, slug, database_name, status, created_by, created_at, version)
      values (${tenantId}, 'Bench', ${`bench-${id}`}, ${tenantDb}, 'active', ${randomUUID()}, now(), 2)`);

    const seeding = performance.now();
    const events = await seed(pool, tenantId, documents, topics.documents);
    const producer = await eventLog.createProducer();
    const relay = startRelay({ pool, connectionUri: config.DATABASE_URL, producer, logger, metrics: createMetrics(), batchSize: 1000, pollIntervalMs: 50 });
    while (Number(await pool.oneFirst(sql.unsafe`select count(*) from outbox where published_at is null`)) > 0) await new Promise((r) => setTimeout(r, 200));
    await relay.stop();
    await producer.close();
    const seededIn = (performance.now() - seeding) / 1000;

    // The floor: reading the tenant's partition with kafkajs and parsing each envelope, nothing else.
    const partition = await eventLog.partitionFor(topics.documents, tenantId);
    const ends = (await eventLog.endOffsets(topics.documents)).find((p) => p.partition === partition);
    const bareStarted = performance.now();
    let bareRead = 0;
    await eventLog.readRanges({
      groupId: `${id}.bare`,
      ranges: [{ topic: topics.documents, partition, from: ends?.low ?? '0', to: ends?.high ?? '0' }],
      onBatch: async (batch) => {
        for (const m of batch.messages) {
          if (m.value) JSON.parse(m.value);
          bareRead += 1;
        }
      },
    });
    const bareSeconds = (performance.now() - bareStarted) / 1000;

    const started = performance.now();
    const result = await rebuildOne({ eventLog, db: tenantPool, spec: tenantRebuild(pool, topics, tenantId), logger, groupId: `${id}.rebuild` });
    const seconds = (performance.now() - started) / 1000;
    const rows = Number(await tenantPool.oneFirst(sql.unsafe`select count(*) from documents`));
    if (result.applied !== events || rows !== documents) throw new Error(`rebuild applied ${result.applied}/${events} events, ${rows}/${documents} documents`);
    const value = Math.round(events / seconds);
    const baseline = Math.round(bareRead / bareSeconds);
    return [
      {
        name: 'rebuild',
        what: `npm run rebuild -- --tenant, ${events} events`,
        value,
        unit: 'events/s',
        baseline: { what: 'bare kafkajs read + JSON.parse of the same partition', value: baseline, unit: 'events/s' },
        ratio: value / baseline,
        goal: '>= 20,000 events/s (100,000 events in <= 5 s)',
        details: { seconds: Math.round(seconds * 1000) / 1000, documents: rows, seededInSeconds: Math.round(seededIn * 10) / 10, partitionMessages: bareRead },
      },
    ];
  } finally {
    await tenantPool?.end();
    await pool.end();
    await eventLog.deleteTopicsWithPrefix(config.TOPIC_PREFIX).catch(() => {});
    await eventLog.close();
    await adminQuery(`drop database if exists ${tenantDb} with (force)`);
    await adminQuery(`drop database if exists ll_${id} with (force)`);
  }
}

/** One set-based INSERT of the tenant's events (files, attachments, documents, two updates each) and their outbox rows. */
async function seed(pool: Awaited<ReturnType<typeof createDatabasePool>>, tenantId: string, documents: number, topic: string): Promise<number> {
  const correlation = randomUUID();
  await pool.query(sql.unsafe`
    insert into events (event_id, stream_id, stream_version, type, schema_version, category, tenant_id, data, actor, correlation_id, occurred_at)
    select gen_random_uuid(), e.stream_id, e.version, e.type, 1, 'documents', ${tenantId}, e.data, d.owner::text, ${correlation}, now()
    from (select g, gen_random_uuid() as document_id, gen_random_uuid() as file_id, gen_random_uuid() as owner,
                 md5(g::text) as md5, encode(sha256(g::text::bytea), 'hex') as sha, to_json(now())#>>'{}' as at
          from generate_series(1, ${documents}) g) d
    cross join lateral (values
      (1, 'file-' || ${tenantId} || '-' || d.sha || '-100', 1, 'FileStored', jsonb_build_object('fileId', d.file_id, 'tenantId', ${tenantId}::uuid,
        's3Key', 'tenants/bench/files/' || d.md5, 'md5', d.md5, 'sha256', d.sha, 'size', 100, 'contentType', 'text/plain', 'storedAt', d.at)),
      (2, 'file-' || ${tenantId} || '-' || d.sha || '-100', 2, 'DocumentAttached', jsonb_build_object('fileId', d.file_id, 'documentId', d.document_id)),
      (3, 'document-' || d.document_id, 1, 'DocumentCreated', jsonb_build_object('documentId', d.document_id, 'tenantId', ${tenantId}::uuid,
        'fileId', d.file_id, 'title', 'Document ' || d.g, 'description', '', 'tags', jsonb_build_array('bench', 't' || (d.g % 10)),
        'filename', 'doc' || d.g || '.txt', 'contentType', 'text/plain', 'size', 100, 'ownerId', d.owner, 'createdAt', d.at)),
      (4, 'document-' || d.document_id, 2, 'DocumentUpdated', jsonb_build_object('documentId', d.document_id, 'tenantId', ${tenantId}::uuid,
        'title', 'Renamed ' || d.g, 'updatedAt', d.at)),
      (5, 'document-' || d.document_id, 3, 'DocumentUpdated', jsonb_build_object('documentId', d.document_id, 'tenantId', ${tenantId}::uuid,
        'tags', jsonb_build_array('bench', 'updated'), 'updatedAt', d.at))
    ) as e(k, stream_id, version, type, data)
    order by d.g, e.k`);
  await pool.query(sql.unsafe`
    insert into outbox (global_position, topic, message_key) select global_position, ${topic}, tenant_id::text from events where tenant_id = ${tenantId} order by global_position`);
  return Number(await pool.oneFirst(sql.unsafe`select count(*) from events where tenant_id = ${tenantId}`));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [result] = await benchRebuild();
  process.stdout.write(
    `rebuild: ${result?.value} events/s (${result?.what}, ${String(result?.details?.seconds)} s); ${result?.baseline?.what}: ${result?.baseline?.value} events/s\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
