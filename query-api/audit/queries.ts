import { Type, type Static } from 'typebox';
import { sql, type DatabasePool } from '../../core/adapters/db.ts';
import { openEvents } from '../../core/eventing/personal-data.ts';
import { AUDIT_LOG_COLUMNS, auditLogRow, type AuditLogRow } from '../../core/eventing/audit-log-rows.ts';

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

function view(row: AuditLogRow): AuditEntryView {
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
async function readable(pool: DatabasePool, rows: readonly AuditLogRow[]): Promise<AuditEntryView[]> {
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

export function createAuditQueries(pool: DatabasePool) {
  return {
    /** Newest first, below `before` (a position), at most `limit`. */
    async page(filter: AuditFilter, before: number, limit: number): Promise<AuditEntryView[]> {
      const rows = await pool.any(sql.type(auditLogRow)`
        select ${AUDIT_LOG_COLUMNS} from audit_log where ${conditions(filter)} and global_position < ${before}
        order by global_position desc limit ${limit}`);
      return readable(pool, rows);
    },
    /** Oldest first, the whole range, read in pages so memory stays flat however long the range. */
    async *stream(filter: AuditFilter, pageSize = 500): AsyncGenerator<AuditEntryView> {
      let after = 0;
      for (;;) {
        const rows = await pool.any(sql.type(auditLogRow)`
          select ${AUDIT_LOG_COLUMNS} from audit_log where ${conditions(filter)} and global_position > ${after}
          order by global_position limit ${pageSize}`);
        for (const entry of await readable(pool, rows)) yield entry;
        if (rows.length < pageSize) return;
        after = rows.at(-1)!.global_position;
      }
    },
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
