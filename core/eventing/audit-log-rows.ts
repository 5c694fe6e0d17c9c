import { Type, type Static } from 'typebox';
import { sql, rowSchema } from '../adapters/db.ts';

/**
 * A row of `audit_log` as its readers see it: the query API's audit view and export, and the
 * chain verifier (`npm run audit:verify`). The audit projection (projectors/main/audit-trail.ts)
 * is its one writer.
 */
export const AuditLogRow = Type.Object({
  global_position: Type.Number(),
  chain: Type.String(),
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
export type AuditLogRow = Static<typeof AuditLogRow>;
export const auditLogRow = rowSchema(AuditLogRow);

export const AUDIT_LOG_COLUMNS = sql.fragment`global_position, chain, event_id, type, schema_version, tenant_id, user_id, actor, stream_id,
  to_json(occurred_at)#>>'{}' as occurred_at, data, prev_hash, hash`;
