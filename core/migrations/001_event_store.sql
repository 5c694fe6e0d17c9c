-- The event store: the consistency boundary of every aggregate.
create table events (
  global_position bigint generated always as identity primary key,
  event_id        uuid        not null unique,
  stream_id       text        not null,
  stream_version  integer     not null check (stream_version > 0),
  type            text        not null,
  schema_version  integer     not null,
  category        text        not null,
  tenant_id       uuid,
  data            jsonb       not null,
  actor           text,
  correlation_id  uuid        not null,
  causation_id    uuid,
  occurred_at     timestamptz not null,
  transaction_id  xid8        not null default pg_current_xact_id(),
  unique (stream_id, stream_version)
);
create index events_by_category on events (category, global_position);
create index events_by_tenant on events (tenant_id, category, global_position) where tenant_id is not null;

-- Written in the same transaction as the events; the relay publishes pending rows to Kafka.
create table outbox (
  global_position bigint primary key references events (global_position),
  topic           text        not null,
  message_key     text        not null,
  transaction_id  xid8        not null default pg_current_xact_id(),
  published_at    timestamptz
);
create index outbox_pending on outbox (global_position) where published_at is null;

-- Idempotency-Key: the first answer to (actor, key) is replayed for 24 h.
create table idempotency_keys (
  actor        text        not null,
  key          text        not null,
  request_hash text        not null,
  status_code  integer     not null,
  response     jsonb       not null,
  created_at   timestamptz not null default now(),
  primary key (actor, key)
);

-- Projection checkpoints that live in the main database (per projection scope).
create table projection_checkpoints (
  projection text        primary key,
  position   bigint      not null default 0,
  updated_at timestamptz not null default now()
);
