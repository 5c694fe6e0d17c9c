-- Webhook signing secrets: write-side state, never on the log (events carry the version only).
-- A rotated-out secret keeps signing beside the new one until expires_at.
create table webhook_secrets (
  webhook_id uuid        not null,
  version    integer     not null check (version > 0),
  secret     text        not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  primary key (webhook_id, version)
);

-- Read model of the subscriptions, built by projectors/webhooks.
create table webhooks (
  webhook_id      uuid        primary key,
  tenant_id       uuid        not null,
  url             text        not null,
  events          text[]      not null,
  description     text        not null,
  enabled         boolean     not null,
  disabled_reason text,
  secret_version  integer     not null,
  created_at      timestamptz not null,
  updated_at      timestamptz not null,
  version         integer     not null
);
create index webhooks_by_tenant on webhooks (tenant_id);

-- One row per (subscription, event), recorded by the webhook projection in the transaction of its
-- checkpoint (an outbox); the delivery worker sends each subscription's rows in position order.
create table webhook_deliveries (
  webhook_id      uuid        not null,
  event_id        uuid        not null,
  tenant_id       uuid        not null,
  global_position bigint      not null,
  event_type      text        not null,
  message_id      text        not null,
  body            text        not null,
  status          text        not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts        integer     not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_until     timestamptz,
  first_attempt_at timestamptz,
  created_at      timestamptz not null default now(),
  finished_at     timestamptz,
  primary key (webhook_id, event_id)
);
create index webhook_deliveries_pending on webhook_deliveries (webhook_id, global_position) where status = 'pending';
create index webhook_deliveries_finished on webhook_deliveries (webhook_id, global_position) where status in ('delivered', 'failed');

-- Every attempt, for GET .../webhooks/{id}/deliveries (response bodies cut at 1 KiB).
create table webhook_attempts (
  attempt_id    bigint      generated always as identity primary key,
  webhook_id    uuid        not null,
  event_id      uuid        not null,
  message_id    text        not null,
  event_type    text        not null,
  attempt       integer     not null,
  outcome       text        not null check (outcome in ('delivered', 'retrying', 'failed')),
  status_code   integer,
  duration_ms   integer     not null,
  error         text,
  response_body text,
  attempted_at  timestamptz not null default now()
);
create index webhook_attempts_by_webhook on webhook_attempts (webhook_id, attempt_id desc);
