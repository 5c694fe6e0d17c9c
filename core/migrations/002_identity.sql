-- Write-side security state: never event-sourced, because the log is public to audit consumers.
create table credentials (
  user_id       uuid        primary key,
  password_hash text        not null,
  updated_at    timestamptz not null default now()
);

-- A login is a session; its refresh tokens rotate inside it. Revoking the session kills every
-- access and refresh token of it on every API instance (they check this table).
create table sessions (
  session_id uuid        primary key,
  user_id    uuid        not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text
);
create index sessions_by_user on sessions (user_id) where revoked_at is null;

create table refresh_tokens (
  token_hash  text        primary key,
  session_id  uuid        not null references sessions (session_id) on delete cascade,
  issued_at   timestamptz not null default now(),
  expires_at  timestamptz not null,
  rotated_at  timestamptz
);

-- Read models built by projectors/main.
create table users (
  user_id       uuid        primary key,
  email         text        not null unique,
  display_name  text        not null,
  registered_at timestamptz not null,
  version       integer     not null
);

create table tenants (
  tenant_id      uuid        primary key,
  name           text        not null,
  slug           text        not null unique,
  database_name  text        not null,
  status         text        not null check (status in ('provisioning', 'active', 'deleted')),
  created_by     uuid        not null,
  created_at     timestamptz not null,
  provisioned_at timestamptz,
  deleted_at     timestamptz,
  last_failure   text,
  version        integer     not null
);

create table memberships (
  tenant_id uuid        not null,
  user_id   uuid        not null,
  role      text        not null check (role in ('admin', 'user', 'viewer')),
  added_at  timestamptz not null,
  primary key (tenant_id, user_id)
);
create index memberships_by_user on memberships (user_id);

-- Audit trail of tenant-scoped events, built by projectors/audit from both topics.
create table audit_log (
  global_position bigint      primary key,
  tenant_id       uuid        not null,
  event_id        uuid        not null,
  type            text        not null,
  actor           text,
  stream_id       text        not null,
  occurred_at     timestamptz not null,
  data            jsonb       not null
);
create index audit_log_by_tenant on audit_log (tenant_id, global_position desc);
