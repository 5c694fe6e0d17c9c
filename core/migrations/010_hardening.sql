-- Request counters of the rate limits (core/adapters/rate-limit-store.ts), shared by every API
-- instance. UNLOGGED: no WAL and not replicated; a crash empties it, which only forgives the
-- counts of one window.
create unlogged table rate_limits (
  key         text        primary key,
  hits        integer     not null,
  window_ends timestamptz not null
);

-- The purge job finds ended sessions and old published outbox rows by these.
create index sessions_by_expiry on sessions (expires_at);
create index outbox_published on outbox (published_at) where published_at is not null;
create index idempotency_keys_by_age on idempotency_keys (created_at);

-- The per-user tenant quota counts the live tenants a user created (command-api/tenants/quota.ts).
create index events_tenant_created_by on events ((data->>'createdBy')) where type = 'TenantCreated';

-- Invitations (projectors/main), read by their invitee: GET /api/users/me/invitations.
create table invitations (
  invitation_id uuid        primary key,
  tenant_id     uuid        not null,
  email         text        not null,
  role          text        not null check (role in ('admin', 'user', 'viewer')),
  invited_by    uuid        not null,
  invited_at    timestamptz not null,
  status        text        not null check (status in ('pending', 'accepted', 'declined')),
  answered_at   timestamptz
);
create index invitations_pending_by_email on invitations (email) where status = 'pending';
