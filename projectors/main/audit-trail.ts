import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import { jsonbParameter, rowSchema, sql, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import type { StoredEvent } from '../../core/eventing/event-store.ts';

const HeadRow = rowSchema(Type.Object({ chain: Type.String(), hash: Type.Union([Type.String(), Type.Null()]) }));

/** The prev_hash of a chain's first entry. */
export const GENESIS = '0'.repeat(64);
export const ANONYMOUS_CHAIN = 'anonymous';

/** What an audit entry's hash covers: every column but the hashes themselves. */
export type AuditEntry = {
  position: number;
  chain: string;
  tenantId: string | null;
  userId: string | null;
  eventId: string;
  type: string;
  schemaVersion: number;
  actor: string | null;
  streamId: string;
  occurredAt: string;
  data: unknown;
};

/** The user an event is about (its subject), when it names one. */
export function subjectUserOf(event: Pick<StoredEvent, 'data'>): string | null {
  const userId = (event.data as { userId?: unknown } | null)?.userId;
  return typeof userId === 'string' ? userId : null;
}

/**
 * Which chain of the audit trail an event belongs to, or null when it is not audited: a
 * tenant's events form the tenant's chain; events about one user outside any tenant form the
 * user's; failed logins for emails nobody has form the anonymous chain. The SQL in
 * audit-verify.ts selects the same events from the store: keep the two in step.
 */
export function auditChainOf(event: Pick<StoredEvent, 'tenantId' | 'type' | 'data'>): string | null {
  if (event.tenantId) return event.tenantId;
  const userId = subjectUserOf(event);
  if (userId) return `user:${userId}`;
  return event.type === 'LoginFailed' ? ANONYMOUS_CHAIN : null;
}

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256(prev_hash || canonical entry), hex. Times are normalised to ISO-8601 UTC milliseconds. */
export function entryHash(prevHash: string, entry: AuditEntry): string {
  const normalised = { ...entry, occurredAt: new Date(entry.occurredAt).toISOString() };
  return createHash('sha256').update(prevHash).update(canonicalJson(normalised)).digest('hex');
}

/**
 * Appends events to their chains, in position order: each entry's prev_hash is the hash of the
 * entry just below it in its chain. The head of each chain below the batch is read once (one
 * index probe per chain), the hashes are computed here, and the entries are written in one
 * statement. Projections apply in position order under the checkpoint lock, so a chain grows one
 * writer at a time; a replayed event finds its entry and computes the same hash.
 */
export async function projectAuditEvents(tx: DatabaseTransactionConnection, events: readonly StoredEvent[]): Promise<void> {
  const audited = events.flatMap((event) => {
    const chain = auditChainOf(event);
    return chain === null ? [] : [{ event, chain }];
  });
  if (audited.length === 0) return;
  const chains = [...new Set(audited.map((a) => a.chain))];
  const heads = await tx.any(sql.type(HeadRow)`
    select c.chain, (select hash from audit_log where chain = c.chain and global_position < ${audited[0]!.event.globalPosition}
                     order by global_position desc limit 1) as hash
    from unnest(${sql.array(chains, 'text')}::text[]) as c(chain)`);
  const last = new Map(heads.map((h) => [h.chain, h.hash ?? GENESIS]));
  const rows = audited.map(({ event, chain }) => {
    const entry: AuditEntry = {
      position: event.globalPosition,
      chain,
      tenantId: event.tenantId,
      userId: subjectUserOf(event),
      eventId: event.eventId,
      type: event.type,
      schemaVersion: event.schemaVersion,
      actor: event.actor,
      streamId: event.streamId,
      occurredAt: event.occurredAt,
      data: event.data,
    };
    const prevHash = last.get(chain) ?? GENESIS;
    const hash = entryHash(prevHash, entry);
    last.set(chain, hash);
    return {
      global_position: entry.position,
      chain,
      tenant_id: entry.tenantId,
      user_id: entry.userId,
      event_id: entry.eventId,
      type: entry.type,
      schema_version: entry.schemaVersion,
      actor: entry.actor,
      stream_id: entry.streamId,
      occurred_at: entry.occurredAt,
      data: entry.data,
      prev_hash: prevHash,
      hash,
    };
  });
  await tx.query(sql.unsafe`
    insert into audit_log (global_position, chain, tenant_id, user_id, event_id, type, schema_version, actor, stream_id,
                           occurred_at, data, prev_hash, hash)
    select global_position, chain, tenant_id, user_id, event_id, type, schema_version, actor, stream_id, occurred_at, data, prev_hash, hash
    from jsonb_to_recordset(${jsonbParameter(rows)}) as r(global_position bigint, chain text, tenant_id uuid, user_id uuid, event_id uuid,
      type text, schema_version int, actor text, stream_id text, occurred_at timestamptz, data jsonb, prev_hash text, hash text)
    order by global_position
    on conflict (global_position) do nothing`);
}

/** One event: the batch of one. */
export function projectAuditEvent(tx: DatabaseTransactionConnection, event: StoredEvent): Promise<void> {
  return projectAuditEvents(tx, [event]);
}
