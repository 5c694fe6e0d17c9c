-- The audit trail covers user events (authentication, password, profile) as well as tenant
-- events, and every chain of it is hash-linked: a tenant, a user ('user:{id}'), or failed
-- logins for unknown emails ('anonymous'). hash = sha256(prev_hash || canonical row), so an
-- edited, removed or reordered entry breaks the chain (npm run audit:verify).
-- The old table had no chain: it is emptied and the audit projection rebuilds it from the
-- event store, from position 0.
drop table audit_log;
create table audit_log (
  global_position bigint      primary key,
  chain           text        not null,
  tenant_id       uuid,
  user_id         uuid,
  event_id        uuid        not null,
  type            text        not null,
  schema_version  integer     not null,
  actor           text,
  stream_id       text        not null,
  occurred_at     timestamptz not null,
  data            jsonb       not null,
  prev_hash       text        not null,
  hash            text        not null
);
create index audit_log_by_chain on audit_log (chain, global_position);
create index audit_log_by_tenant on audit_log (tenant_id, global_position desc) where tenant_id is not null;
create index audit_log_by_user on audit_log (user_id, global_position desc) where user_id is not null;
delete from projection_checkpoints where projection = 'audit';
