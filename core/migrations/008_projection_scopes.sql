-- Scopes a projector has set aside (a tenant not provisioned yet, an event it failed on), written
-- by the projector runtime so `npm run projections -- list` can show them from anywhere, and
-- `retry` asks every projector of that projection to try the scope again now.
create table projection_set_aside (
  projection         text        not null,
  scope              text        not null,
  state              text        not null check (state in ('paused', 'failed')),
  reason             text,
  failures           integer     not null default 0,
  since              timestamptz not null,
  retry_at           timestamptz,
  retry_requested_at timestamptz,
  updated_at         timestamptz not null default now(),
  primary key (projection, scope)
);
