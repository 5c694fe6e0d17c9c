// "Every read model equals a fresh replay": the event store is copied into an empty database,
// the projections run once over it into empty read models (and empty tenant databases), and
// every read-model table is compared row for row with the live one.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabasePool, sql, withDatabase, type DatabasePool } from '../../core/adapters/db.ts';
import { migrate, MAIN_MIGRATIONS, TENANT_MIGRATIONS } from '../../core/adapters/migrate.ts';
import { topicNames } from '../../core/adapters/kafka.ts';
import { LATEST } from '../../core/eventing/projector.ts';
import { createTenantPools, type TenantPools } from '../../core/adapters/tenant-pools.ts';
import { auditProjection, mainProjection } from '../../projectors/main/projection.ts';
import { tenantProjection } from '../../projectors/tenant/projection.ts';

export const MAIN_READ_MODELS = ['users', 'tenants', 'memberships', 'audit_log'];
export const TENANT_READ_MODELS = ['files', 'documents'];
const EVENT_COLUMNS = [
  'global_position',
  'event_id',
  'stream_id',
  'stream_version',
  'type',
  'schema_version',
  'category',
  'tenant_id',
  'data',
  'actor',
  'correlation_id',
  'causation_id',
  'occurred_at',
];

async function onServer(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function rowsOf(url: string, table: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ row: string }>(`select t::text as row from "${table}" t order by 1`)).rows.map((r) => r.row);
  } finally {
    await client.end();
  }
}

export type ReplayComparison = { events: number; tenants: number; differences: string[] };

export async function compareWithFreshReplay(liveUrl: string): Promise<ReplayComparison> {
  const suffix = randomBytes(4).toString('hex');
  const replayName = `replay_${suffix}`;
  const replayUrl = withDatabase(liveUrl, replayName);
  const created: string[] = [];
  await onServer(liveUrl, `create database ${replayName}`);
  created.push(replayName);
  const live = await createDatabasePool(liveUrl, { maxPoolSize: 2 });
  let replay: DatabasePool | undefined;
  let tenantPools: TenantPools | undefined;
  try {
    await migrate(replayUrl, MAIN_MIGRATIONS);
    replay = await createDatabasePool(replayUrl, { maxPoolSize: 4 });
    const events = await copyEvents(live, replay);
    // The subjects' keys live beside the log, not in it: the replay opens sealed fields with the
    // same keys (an erased subject's key is gone from both).
    await copySubjectKeys(live, replay);
    const topics = topicNames('');
    await mainProjection(replay, topics).catchUp('main', LATEST);
    await auditProjection(replay, topics).catchUp('audit', LATEST);
    const tenants = (await replay.any(sql.unsafe`select tenant_id, database_name from tenants where status = 'active' order by tenant_id`)) as unknown as {
      tenant_id: string;
      database_name: string;
    }[];
    // Each tenant's replay lands in an empty database of its own, named after the live one.
    const replayOf = (name: string) => `rp_${suffix}_${createHash('sha1').update(name).digest('hex').slice(0, 16)}`;
    for (const tenant of tenants) {
      await onServer(liveUrl, `create database ${replayOf(tenant.database_name)}`);
      created.push(replayOf(tenant.database_name));
      await migrate(withDatabase(liveUrl, replayOf(tenant.database_name)), TENANT_MIGRATIONS);
    }
    const pools = createTenantPools({ mainUri: liveUrl, poolSize: 2, maxPools: 10 });
    tenantPools = { ...pools, get: (name: string) => pools.get(replayOf(name)) };
    const projection = tenantProjection({ pool: replay, tenantPools, topics });
    for (const tenant of tenants) await projection.catchUp(tenant.tenant_id, LATEST);

    const differences: string[] = [];
    const compare = async (what: string, liveDb: string, replayDb: string, table: string) => {
      const [a, b] = await Promise.all([rowsOf(liveDb, table), rowsOf(replayDb, table)]);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        const onlyLive = a.filter((row) => !b.includes(row)).slice(0, 3);
        const onlyReplay = b.filter((row) => !a.includes(row)).slice(0, 3);
        differences.push(
          `${what}.${table}: live ${a.length} rows, replay ${b.length}; only live: ${onlyLive.join(' ; ')} | only replay: ${onlyReplay.join(' ; ')}`,
        );
      }
    };
    for (const table of MAIN_READ_MODELS) await compare('main', liveUrl, replayUrl, table);
    for (const tenant of tenants) {
      for (const table of TENANT_READ_MODELS) {
        await compare(`tenant ${tenant.tenant_id}`, withDatabase(liveUrl, tenant.database_name), withDatabase(liveUrl, replayOf(tenant.database_name)), table);
      }
    }
    return { events, tenants: tenants.length, differences };
  } finally {
    await tenantPools?.closeAll();
    await replay?.end();
    await live.end();
    for (const name of created) await onServer(liveUrl, `drop database if exists ${name} with (force)`).catch(() => {});
  }
}

async function copyEvents(from: DatabasePool, to: DatabasePool): Promise<number> {
  const columns = sql.join(
    EVENT_COLUMNS.map((c) => sql.identifier([c])),
    sql.fragment`, `,
  );
  let after = 0;
  let total = 0;
  for (;;) {
    const rows = await from.any(sql.unsafe`
      select coalesce(jsonb_agg(to_jsonb(e) - 'transaction_id' order by global_position), '[]') as batch, max(global_position) as last
      from (select * from events where global_position > ${after} order by global_position limit 2000) e`);
    const { batch, last } = rows[0] as unknown as { batch: unknown[]; last: number | null };
    if (last === null) return total;
    await to.query(sql.unsafe`
      insert into events (${columns}) overriding system value
      select ${columns} from jsonb_populate_recordset(null::events, ${sql.jsonb(batch as never)})`);
    total += batch.length;
    after = last;
  }
}

async function copySubjectKeys(from: DatabasePool, to: DatabasePool): Promise<void> {
  const keys = await from.oneFirst(sql.unsafe`select coalesce(jsonb_agg(to_jsonb(k)), '[]') from subject_keys k`);
  await to.query(sql.unsafe`insert into subject_keys select * from jsonb_populate_recordset(null::subject_keys, ${sql.jsonb(keys as never)})`);
}
