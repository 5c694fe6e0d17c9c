-- Crypto-shredding (README "Erasure"): one AES-256-GCM key per data subject, kept outside the
-- log. Events carry only ciphertext of personal fields; deleting a subject's rows here erases
-- those fields everywhere the events went (Kafka, rebuilds, audit consumers).
-- subject: 'user:<id>' | 'author:<tenant>:<user>' | 'address:<tenant or ->:<email hmac>' | 'tenant:<id>'.
-- user_id, tenant_id and email_hash say which erasures delete the row.
create table subject_keys (
  key_id     uuid        primary key,
  subject    text        not null unique,
  user_id    uuid,
  tenant_id  uuid,
  email_hash text,
  key        bytea       not null check (length(key) = 32),
  created_at timestamptz not null default now()
);
create index subject_keys_by_user on subject_keys (user_id) where user_id is not null;
create index subject_keys_by_tenant on subject_keys (tenant_id) where tenant_id is not null;
create index subject_keys_by_email on subject_keys (email_hash) where email_hash is not null;

-- Users erased for good: no key is ever made for them again, so whatever the log still records
-- about them afterwards (a failed login on their old address) is sealed under a key never kept.
create table erased_users (
  user_id   uuid        primary key,
  erased_at timestamptz not null default now()
);

-- A deleted key must stop opening data in every process at once: caches drop it on this.
create or replace function ll_notify_subject_key_deleted() returns trigger
language plpgsql as $$
begin
  perform pg_notify('ledgerline_invalidate', 'subject-key:' || old.key_id);
  return old;
end $$;
create trigger subject_keys_invalidate after delete on subject_keys
  for each row execute function ll_notify_subject_key_deleted();

-- Erased users read as '[erased]': the read model's address stays unique only among live users.
alter table users drop constraint users_email_key;
create unique index users_email_live on users (email) where email <> '[erased]';
