-- Notifications, built by projectors/notifications from the log (one scope, checkpoint
-- 'notifications'). The projection keeps its own copies of the facts it needs (users' addresses,
-- tenant names, who administers which tenant) so that it never reads another projection's tables,
-- whose checkpoints move independently of its own.
create table notification_users (
  user_id      uuid primary key,
  email        text not null,
  display_name text not null
);
create table notification_tenants (
  tenant_id uuid primary key,
  name      text not null
);
create table notification_members (
  tenant_id uuid not null,
  user_id   uuid not null,
  role      text not null,
  primary key (tenant_id, user_id)
);
-- Email kinds a user turned off (NotificationPreferencesChanged replaces the whole set).
create table notification_preferences (
  user_id   uuid   primary key,
  email_off text[] not null
);

-- In-app notifications. notification_id is derived from (event id, recipient), so a replay
-- upserts the same rows; position is the global position of the event that caused it.
create table notifications (
  notification_id uuid        primary key,
  user_id         uuid        not null,
  position        bigint      not null,
  kind            text        not null,
  tenant_id       uuid,
  message         text        not null,
  data            jsonb       not null,
  created_at      timestamptz not null,
  read_at         timestamptz
);
create index notifications_by_user on notifications (user_id, position desc, notification_id desc);
create index notifications_unread_by_user on notifications (user_id, position desc, notification_id desc) where read_at is null;

-- Email outbox: written by the projection in the notification's transaction, drained by the
-- mailer. 'sending' rows carry a lease; one whose lease ran out is in doubt (the mailer died
-- while sending or before recording) and is sent again with the same Message-ID.
create table email_outbox (
  notification_id uuid        primary key,
  recipient       text        not null,
  subject         text        not null,
  text_body       text        not null,
  html_body       text        not null,
  message_id      text        not null,
  status          text        not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
  attempts        integer     not null default 0,
  lease_until     timestamptz,
  next_attempt_at timestamptz not null default now(),
  created_at      timestamptz not null default now(),
  sent_at         timestamptz,
  last_error      text
);
create index email_outbox_due on email_outbox (next_attempt_at) where status in ('pending', 'sending');
