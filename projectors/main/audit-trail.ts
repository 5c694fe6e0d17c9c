import { createHash } from 'node:crypto';
import { sql, type DatabaseTransactionConnection } from '../../core/adapters/db.ts';
import type { StoredEvent } from '../../core/eventing/event-store.ts';

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
 * Appends an event to its chain: the previous entry's hash is the one just below it in the
 * chain. Projections apply in position order under the checkpoint lock, so the chain grows
 * one writer at a time; a replayed event finds its entry and computes the same hash.
 */
export async function projectAuditEvent(tx: DatabaseTransactionConnection, event: StoredEvent): Promise<void> {
  const chain = auditChainOf(event);
  if (chain === null) return;
  const prevHash =
    ((await tx.maybeOneFirst(sql.unsafe`
    select hash from audit_log where chain = ${chain} and global_position < ${event.globalPosition}
    order by global_position desc limit 1`)) as string | null) ?? GENESIS;
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
  await tx.query(sql.unsafe`
    insert into audit_log (global_position, chain, tenant_id, user_id, event_id, type, schema_version, actor, stream_id,
                           occurred_at, data, prev_hash, hash)
    values (${entry.position}, ${chain}, ${entry.tenantId}, ${entry.userId}, ${entry.eventId}, ${entry.type}, ${entry.schemaVersion},
            ${entry.actor}, ${entry.streamId}, ${entry.occurredAt}, ${sql.jsonb(entry.data as never)}, ${prevHash}, ${entryHash(prevHash, entry)})
    on conflict (global_position) do nothing`);
}
