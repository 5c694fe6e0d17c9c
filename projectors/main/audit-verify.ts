import { Type } from 'typebox';
import { sql, rowSchema, type DatabasePool } from '../../core/adapters/db.ts';
import { checkpointOf } from '../../core/eventing/projector.ts';
import { ANONYMOUS_CHAIN, entryHash, GENESIS } from './audit-trail.ts';
import { AUDIT_LOG_COLUMNS, auditLogRow } from '../../core/eventing/audit-log-rows.ts';

export type ChainProblem = {
  position: number;
  /** edited: the entry no longer matches its hash (or its event); link broken: the entry before it was removed, reordered or inserted; missing / not in the event store: compared with the event store. */
  problem: 'edited' | 'link broken' | 'missing' | 'not in the event store';
};
export type ChainReport = { chain: string; entries: number; checkedUpTo: number; headHash: string; ok: boolean; problems: ChainProblem[] };

const SourceRow = rowSchema(Type.Object({ global_position: Type.Number(), event_id: Type.String() }));
const PAGE = 1000;

/** The events of the store that belong to a chain: the SQL twin of auditChainOf (audit-trail.ts). */
function chainCondition(chain: string) {
  if (chain === ANONYMOUS_CHAIN) return sql.fragment`tenant_id is null and type = 'LoginFailed' and data->>'userId' is null`;
  if (chain.startsWith('user:')) return sql.fragment`tenant_id is null and data->>'userId' = ${chain.slice(5)}`;
  return sql.fragment`tenant_id = ${chain}`;
}

async function* pages<T extends { global_position: number }>(read: (after: number) => Promise<readonly T[]>): AsyncGenerator<T> {
  let after = 0;
  for (;;) {
    const rows = await read(after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows.at(-1)!.global_position;
  }
}

/**
 * Walks a chain of the audit trail in position order, recomputing every hash and link, and
 * compares it with the event store (the source the trail was built from) up to the audit
 * projection's checkpoint, so that a removed last entry is caught too. A chain rewritten
 * consistently from some entry on is caught by that comparison or by a head hash recorded
 * elsewhere earlier (reported here as headHash).
 */
export async function verifyAuditChain(pool: DatabasePool, chain: string): Promise<ChainReport> {
  const checkedUpTo = await checkpointOf(pool, 'audit');
  const problems: ChainProblem[] = [];
  const entries = pages((after) =>
    pool.any(sql.type(auditLogRow)`
    select ${AUDIT_LOG_COLUMNS} from audit_log where chain = ${chain} and global_position > ${after} and global_position <= ${checkedUpTo}
    order by global_position limit ${PAGE}`),
  );
  const sources = pages((after) =>
    pool.any(sql.type(SourceRow)`
    select global_position, event_id::text as event_id from events
    where ${chainCondition(chain)} and global_position > ${after} and global_position <= ${checkedUpTo}
    order by global_position limit ${PAGE}`),
  );

  let prev = GENESIS;
  let count = 0;
  let source = await sources.next();
  for await (const row of entries) {
    count += 1;
    while (!source.done && source.value.global_position < row.global_position) {
      problems.push({ position: source.value.global_position, problem: 'missing' });
      source = await sources.next();
    }
    const fromStore = !source.done && source.value.global_position === row.global_position ? source.value : null;
    if (fromStore) source = await sources.next();
    else problems.push({ position: row.global_position, problem: 'not in the event store' });
    if (row.prev_hash !== prev) problems.push({ position: row.global_position, problem: 'link broken' });
    const recomputed = entryHash(row.prev_hash, {
      position: row.global_position,
      chain: row.chain,
      tenantId: row.tenant_id,
      userId: row.user_id,
      eventId: row.event_id,
      type: row.type,
      schemaVersion: row.schema_version,
      actor: row.actor,
      streamId: row.stream_id,
      occurredAt: row.occurred_at,
      data: row.data,
    });
    if (recomputed !== row.hash || (fromStore && fromStore.event_id !== row.event_id)) problems.push({ position: row.global_position, problem: 'edited' });
    prev = row.hash;
  }
  for (; !source.done; source = await sources.next()) problems.push({ position: source.value.global_position, problem: 'missing' });
  return { chain, entries: count, checkedUpTo, headHash: prev, ok: problems.length === 0, problems };
}
