// `npm test` starts with this sweep: it removes what earlier test runs left on the shared
// services when their process died before its teardown (a crash, a timeout, Ctrl-C). A run is
// swept when its owner process is gone and it is older than a minute, or, with no owner
// recorded, when it is older than LEDGERLINE_SWEEP_MINUTES (default 60: longer than any test file
// may run, so another checkout's live run is never touched). Prints what it removed.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { loadConfig } from '../../core/adapters/config.ts';
import { createS3Clients } from '../../core/adapters/s3.ts';
import { MAIN_SERVER, parseTenantServers } from '../../core/adapters/tenant-servers.ts';
import { deleteKafkaPrefix, deleteS3Prefix, dropRunDatabases, ownerIsAlive, runStartedAt, type Owner } from './test-runs.ts';

const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
const unownedAfterMs = Number(process.env.LEDGERLINE_SWEEP_MINUTES ?? 60) * 60_000;
const now = Date.now();

function abandoned(id: string, owner: Owner | undefined): boolean {
  const started = runStartedAt(id);
  if (started === undefined) return false;
  // A live owner keeps its run, unless the pid has long been reused by something else.
  if (owner) return (!ownerIsAlive(owner) && now - started > 60_000) || now - started > 6 * 3_600_000;
  return now - started > unownedAfterMs;
}

async function runDatabases(): Promise<Map<string, Owner | undefined>> {
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string; comment: string | null }>(
      `select datname, shobj_description(oid, 'pg_database') as comment from pg_database where datname like 'll\\_%'`,
    );
    return new Map(
      rows.map((r) => {
        let owner: Owner | undefined;
        try {
          owner = r.comment ? (JSON.parse(r.comment) as Owner) : undefined;
        } catch {
          owner = undefined;
        }
        return [r.datname.slice(3), owner];
      }),
    );
  } finally {
    await client.end();
  }
}

async function runTopicPrefixes(): Promise<Set<string>> {
  const admin = new Kafka({ brokers: config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Set((await admin.listTopics()).map((t) => t.split('.')[0]!).filter((p) => runStartedAt(p) !== undefined));
  } finally {
    await admin.disconnect();
  }
}

async function runS3Prefixes(s3: { internal: S3Client; bucket: string }): Promise<Set<string>> {
  const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Delimiter: '/', MaxKeys: 1000 }));
  return new Set((listed.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(0, -1)).filter((p) => runStartedAt(p) !== undefined));
}

// A run's tenant databases may be on any tenant server (TENANT_SERVERS), not only the main one.
const otherServers = [...parseTenantServers(config.TENANT_SERVERS, config.DATABASE_URL)].filter(([name]) => name !== MAIN_SERVER).map(([, url]) => url);
const s3 = createS3Clients({ ...config, S3_KEY_PREFIX: '' });
const [databases, topicPrefixes, s3Prefixes] = await Promise.all([runDatabases(), runTopicPrefixes(), runS3Prefixes(s3).catch(() => new Set<string>())]);
const ids = new Set([...databases.keys(), ...topicPrefixes, ...s3Prefixes]);
const swept: string[] = [];
for (const id of ids) {
  // A topic or object prefix without its database belongs to a run whose teardown got half-way.
  if (!abandoned(id, databases.get(id))) continue;
  try {
    if (databases.has(id)) await dropRunDatabases(config.DATABASE_URL, `ll_${id}`, otherServers);
    if (topicPrefixes.has(id)) await deleteKafkaPrefix(config.KAFKA_BROKERS, `${id}.`);
    if (s3Prefixes.has(id)) await deleteS3Prefix(s3, `${id}/`);
    swept.push(id);
  } catch (err) {
    process.stderr.write(`sweep: could not remove test run ${id}: ${(err as Error).message}\n`);
  }
}
s3.internal.destroy();
s3.publicSigner.destroy();
process.stdout.write(`sweep: removed ${swept.length} abandoned test run(s)${swept.length ? `: ${swept.join(', ')}` : ''}\n`);
