-- `npm run rebuild -- --all-tenants` records each tenant it finished, so a run that crashed
-- resumes without redoing them.
create table rebuild_runs (
  run_id      uuid        primary key,
  dry_run     boolean     not null,
  started_at  timestamptz not null default now(),
  finished_at timestamptz
);

create table rebuild_run_tenants (
  run_id      uuid        not null references rebuild_runs (run_id) on delete cascade,
  tenant_id   uuid        not null,
  status      text        not null check (status in ('done', 'failed')),
  applied     integer,
  position    bigint,
  differences jsonb,
  error       text,
  finished_at timestamptz not null default now(),
  primary key (run_id, tenant_id)
);
