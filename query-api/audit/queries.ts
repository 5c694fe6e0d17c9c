import { Type, type Static } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';

/** Which entries: one tenant's or one user's, optionally by actor, event types and time range. */
export type AuditFilter = {
  tenantId?: string;
  userId?: string;
  actor?: string;
  types?: string[];
  /** occurredAt >= from */
  from?: string;
  /** occurredAt < to */
  to?: string;
};

const AuditRow = Type.Object({
  global_position: Type.Number(),
  event_id: Type.String(),
  type: Type.String(),
  schema_version: Type.Number(),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  stream_id: Type.String(),
  occurred_at: Type.String(),
  data: Type.Unknown(),
  prev_hash: Type.String(),
  hash: Type.String(),
});
const auditRow = rowSchema(AuditRow);

/** What the API shows of one entry (the hashes too, so an auditor can check the chain offline). */
export const AuditEntryView = Type.Object({
  position: Type.Integer(),
  eventId: Type.String(),
  type: Type.String(),
  schemaVersion: Type.Integer(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  userId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  streamId: Type.String(),
  occurredAt: Type.String(),
  data: Type.Unknown({ description: 'The event data as hashed: personal fields sealed (ll1. envelopes)' }),
  readable: Type.Unknown({ description: "The data with personal fields opened, or '[erased]' once their subject was erased" }),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntryView = Static<typeof AuditEntryView>;

function view(row: Static<typeof AuditRow>): AuditEntryView {
  return {
    position: row.global_position,
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    tenantId: row.tenant_id,
    userId: row.user_id,
    actor: row.actor,
    streamId: row.stream_id,
    occurredAt: row.occurred_at,
    data: row.data,
    readable: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Opens each entry's personal fields for `readable`, keys read afresh: an erasure shows at once. */
async function readable(pool: DatabasePool, rows: readonly Static<typeof AuditRow>[]): Promise<AuditEntryView[]> {
  const opened = await openEvents(
    pool,
    rows.map((row) => ({ type: row.type, data: row.data })),
    { cached: false },
  );
  return rows.map((row, i) => ({ ...view(row), readable: opened[i]!.data }));
}

function conditions(filter: AuditFilter) {
  const where = [
    filter.tenantId === undefined ? null : sql.fragment`tenant_id = ${filter.tenantId}`,
    filter.userId === undefined ? null : sql.fragment`user_id = ${filter.userId}`,
    filter.actor === undefined ? null : sql.fragment`actor = ${filter.actor}`,
    filter.types === undefined ? null : sql.fragment`type = any(${sql.array(filter.types, 'text')})`,
    filter.from === undefined ? null : sql.fragment`occurred_at >= ${filter.from}`,
    filter.to === undefined ? null : sql.fragment`occurred_at < ${filter.to}`,
  ].filter((c) => c !== null);
  return where.length === 0 ? sql.fragment`true` : sql.join(where, sql.fragment` and `);
}

const COLUMNS = sql.fragment`global_position, event_id, type, schema_version, tenant_id, user_id, actor, stream_id,
  to_json(occurred_at)#>>'{}' as occurred_at, data, prev_hash, hash`;

export function createAuditQueries(pool: DatabasePool) {
  return {
    /** Newest first, below `before` (a position), at most `limit`. */
    async page(filter: AuditFilter, before: number, limit: number): Promise<AuditEntryView[]> {
      const rows = await pool.any(sql.type(auditRow)`
        select ${COLUMNS} from audit_log where ${conditions(filter)} and global_position < ${before}
        order by global_position desc limit ${limit}`);
      return readable(pool, rows);
    },
    /** Oldest first, the whole range, read in pages so memory stays flat however long the range. */
    async *stream(filter: AuditFilter, pageSize = 500): AsyncGenerator<AuditEntryView> {
      let after = 0;
      for (;;) {
        const rows = await pool.any(sql.type(auditRow)`
          select ${COLUMNS} from audit_log where ${conditions(filter)} and global_position > ${after}
          order by global_position limit ${pageSize}`);
        for (const entry of await readable(pool, rows)) yield entry;
        if (rows.length < pageSize) return;
        after = rows.at(-1)!.global_position;
      }
    },
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
