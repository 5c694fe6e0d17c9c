// What a test run leaves on the shared services, and how it is removed: by the harness's
// teardown, and by the sweep `npm test` starts with (for runs whose process crashed or was
// killed before its teardown could run). A run is named by its id (`uniqueId()`): its main
// database `ll_<id>`, the tenant databases listed in that database's events, Kafka topics and
// consumer groups `<id>.…` and S3 keys `<id>/…`. The main database's comment names the owning
// process, so a sweep never touches a run whose test process is still alive.
import { hostname } from 'node:os';
import pg from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { retryKafka } from '../../core/adapters/kafka.ts';
import type { S3Clients } from '../../core/adapters/s3.ts';
import { pino } from 'pino';

/** uniqueId(): a short prefix, Date.now() in base 36 (8 characters until 2059), 6 hex characters. */
const RUN_ID = /^([a-z_]{1,8}?)([0-9a-z]{8})([0-9a-f]{6})$/;

/** When the run named `id` started (from the id itself), or undefined for a name that is no run id. */
export function runStartedAt(id: string): number | undefined {
  const match = RUN_ID.exec(id);
  if (!match) return undefined;
  const ms = parseInt(match[2]!, 36);
  return ms > 1.5e12 && ms < 4e12 ? ms : undefined;
}

export type Owner = { pid: number; host: string; started: number };

export function ownerComment(id: string): string {
  return JSON.stringify({ pid: process.pid, host: hostname(), started: runStartedAt(id) ?? Date.now() } satisfies Owner);
}

export function ownerIsAlive(owner: Owner | undefined): boolean {
  if (!owner || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type Services = { databaseUrl: string; brokers: string; s3?: S3Clients };

async function onServer<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops the run's tenant databases, then its main database (connections are ended with force).
 * `otherServers`: the run's further tenant servers (TENANT_SERVERS), where tenant databases may also be.
 */
export async function dropRunDatabases(databaseUrl: string, mainDatabase: string, otherServers: string[] = []): Promise<string[]> {
  const runDb = new URL(databaseUrl);
  runDb.pathname = `/${mainDatabase}`;
  const tenants: (string | null)[] = await onServer(runDb.toString(), async (client) =>
    (await client.query<{ name: string | null }>(`select distinct data->>'databaseName' as name from events where type = 'TenantCreated'`)).rows.map(
      (r) => r.name,
    ),
  ).catch(() => []);
  const tenantNames = tenants.filter((n): n is string => !!n && /^[a-z][a-z0-9_]{0,62}$/.test(n));
  for (const server of otherServers) {
    await onServer(server, async (client) => {
      for (const name of tenantNames) await client.query(`drop database if exists "${name}" with (force)`);
    });
  }
  const names = [...tenantNames, mainDatabase];
  await onServer(databaseUrl, async (client) => {
    for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
  });
  return names;
}

/** Deletes the topics and consumer groups whose names start with `prefix`, retrying while the broker is busy. */
export async function deleteKafkaPrefix(brokers: string, prefix: string): Promise<string[]> {
  const logger = pino({ level: 'silent' });
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  const deadline = Date.now() + 30_000;
  await retryKafka('connect admin', deadline, logger, () => admin.connect());
  try {
    const topics = (await retryKafka('list topics', deadline, logger, () => admin.listTopics())).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await retryKafka('delete topics', deadline, logger, () => admin.deleteTopics({ topics, timeout: 20_000 }));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
    return topics;
  } finally {
    await admin.disconnect();
  }
}

export async function deleteS3Prefix(s3: S3Clients, prefix: string): Promise<number> {
  if (!prefix) return 0;
  let deleted = 0;
  for (;;) {
    const listed = await s3.internal.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return deleted;
    await s3.internal.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys } }));
    deleted += keys.length;
  }
}

/**
 * Runs every step even when an earlier one fails (a teardown that stops at the first error
 * leaves the rest behind), then reports the failures together.
 */
export async function allSteps(steps: [string, () => Promise<unknown>][]): Promise<void> {
  const failed: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failed.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (failed.length > 0) throw new Error(`teardown left something behind: ${failed.join('; ')}`);
}
