// Development-only reset: back to an empty system.
//
//   node scripts/reset-dev.ts --yes
//
// Drops every tenant database the main database knows of, drops and recreates the main database's
// schema (and migrates it again), deletes this installation's Kafka topics (`{TOPIC_PREFIX}ledgerline.*`)
// and consumer groups and recreates the topics, and deletes the S3 objects under S3_KEY_PREFIX.
// Refuses to run when NODE_ENV=production, and without --yes. Stop the services first: running
// consumers keep their groups alive, and open connections to the tenant databases are cut.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { bootstrap } from '../core/adapters/process.ts';
import { migrate, MAIN_MIGRATIONS } from '../core/adapters/migrate.ts';
import { createEventLog, topicNames } from '../core/adapters/kafka.ts';
import { createS3Clients } from '../core/adapters/s3.ts';
import { isValidDatabaseName } from '../domain/tenant/index.ts';
import { dropTenantDatabase } from '../projectors/provisioner/provision.ts';
import { createTenantServers } from '../core/adapters/tenant-servers.ts';

const say = (line: string) => process.stdout.write(`reset-dev: ${line}\n`);
const refuse = (line: string): never => {
  process.stderr.write(`reset-dev: ${line}\n`);
  process.exit(1);
};
const PRODUCTION =
  'refusing to run: NODE_ENV=production. This script deletes every event, read model, tenant database, Kafka topic and stored file; it is for development only.';

// Before anything else, even before the configuration is read: a production environment may not
// even be complete enough to load, and must get this answer rather than a configuration error.
if (process.env.NODE_ENV === 'production') refuse(PRODUCTION);
const { values: args } = parseArgs({ options: { yes: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
if (args.help) {
  process.stdout.write('usage: node scripts/reset-dev.ts --yes   (development only: deletes all data)\n');
  process.exit(0);
}

const { config, logger } = await bootstrap('reset-dev');
if (config.NODE_ENV === 'production') refuse(PRODUCTION);

const database = new URL(config.DATABASE_URL).pathname.slice(1);
const topicPattern = `${config.TOPIC_PREFIX}ledgerline.`;
const objects = `s3://${config.S3_BUCKET}/${config.S3_KEY_PREFIX}`;
if (!args.yes) {
  refuse(
    [
      `this deletes everything of this ${config.NODE_ENV} installation:`,
      `  the main database ${database} (its schema is dropped and recreated) and every tenant database it lists,`,
      `  the Kafka topics and consumer groups ${topicPattern}*,`,
      `  the objects under ${objects}${config.S3_KEY_PREFIX ? '' : ' (the whole bucket)'}.`,
      'Run again with --yes to go ahead.',
    ].join('\n'),
  );
}

const quiet = logger.child({}, { level: 'warn' });
const servers = createTenantServers(config);

async function onMainDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

try {
  // 1. Tenant databases: the read model's list and, should it lag, every TenantCreated.
  const tenantDatabases = await onMainDatabase(async (client) => {
    const tables = new Set(
      (await client.query(`select table_name from information_schema.tables where table_schema = 'public'`)).rows.map(
        (r: { table_name: string }) => r.table_name,
      ),
    );
    const names = new Set<string>();
    if (tables.has('tenants')) for (const row of (await client.query('select database_name from tenants')).rows) names.add(row.database_name);
    if (tables.has('events')) {
      for (const row of (await client.query(`select data->>'databaseName' as name from events where type = 'TenantCreated'`)).rows)
        if (row.name) names.add(row.name);
    }
    return [...names].sort();
  });
  for (const name of tenantDatabases) {
    if (!isValidDatabaseName(name) || !name.startsWith('tenant_')) {
      say(`skipped a listed database with an unexpected name: ${JSON.stringify(name)}`);
      continue;
    }
    // On every tenant server: a database moved away, or left by a crashed move, may be on any.
    for (const server of servers.names()) await dropTenantDatabase(servers.serverUri(server), name, quiet);
  }
  say(
    `dropped the ${tenantDatabases.length} tenant database(s) listed, where present on ${servers.names().join(', ')}${tenantDatabases.length ? `: ${tenantDatabases.join(', ')}` : ''}`,
  );

  // 2. The main database's schema, recreated empty and migrated again.
  await onMainDatabase(async (client) => {
    await client.query('drop schema public cascade');
    await client.query('create schema public');
  });
  const applied = await migrate(config.DATABASE_URL, MAIN_MIGRATIONS, quiet);
  say(`main database ${database}: schema dropped and recreated (${applied.length} migration(s) applied)`);

  // 3. Kafka: this installation's topics and consumer groups, then the topics again.
  const eventLog = createEventLog({ brokers: config.KAFKA_BROKERS, clientId: 'reset-dev', logger: quiet });
  try {
    const doomed = await eventLog.deleteTopicsWithPrefix(topicPattern);
    say(`deleted ${doomed.length} Kafka topic(s)${doomed.length ? `: ${doomed.join(', ')}` : ''}`);
    try {
      const groups = await eventLog.deleteGroupsWithPrefix(topicPattern);
      if (groups.length) say(`deleted ${groups.length} consumer group(s)`);
    } catch (err) {
      say(`could not delete every consumer group (are services still running?): ${(err as Error).message}`);
    }
    const topics = Object.values(topicNames(config.TOPIC_PREFIX));
    await eventLog.ensureTopics(topics, config.TOPIC_PARTITIONS);
    say(`recreated the Kafka topics: ${topics.join(', ')}`);
  } finally {
    await eventLog.close();
  }

  // 4. Stored files.
  const s3 = createS3Clients(config);
  let deleted = 0;
  try {
    for (;;) {
      const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: config.S3_KEY_PREFIX || undefined }));
      const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) break;
      await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys, Quiet: true } }));
      deleted += keys.length;
    }
  } finally {
    s3.internal.destroy();
    s3.publicSigner.destroy();
  }
  say(`deleted ${deleted} object(s) under ${objects}`);
  say('done: the installation is empty; run the seed to start over (node scripts/seed.ts --create-admin --create-test-tenant)');
  process.exit(0);
} catch (err) {
  logger.fatal({ err }, 'reset-dev failed');
  process.exit(1);
}
