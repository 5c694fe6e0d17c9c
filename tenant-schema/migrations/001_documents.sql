-- One tenant's database: its files and documents, built by projectors/tenant.
create table projection_checkpoints (
  projection text        primary key,
  position   bigint      not null default 0,
  updated_at timestamptz not null default now()
);

-- Content stored once per tenant (identity: SHA-256 and size; MD5 for the key scheme and the API).
create table files (
  file_id        uuid        primary key,
  s3_key         text        not null,
  md5            text        not null,
  sha256         text        not null,
  size           bigint      not null,
  content_type   text        not null,
  status         text        not null check (status in ('stored', 'deletion_scheduled', 'deleted')),
  document_count integer     not null default 0,
  stored_at      timestamptz not null,
  version        integer     not null
);
create index files_by_content on files (sha256, size);

create table documents (
  document_id  uuid        primary key,
  file_id      uuid        not null,
  title        text        not null,
  description  text,
  tags         text[]      not null default '{}',
  filename     text        not null,
  content_type text        not null,
  size         bigint      not null,
  owner_id     uuid        not null,
  created_at   timestamptz not null,
  updated_at   timestamptz not null,
  version      integer     not null
);
-- Cursor paging walks (sort key, document_id); these indexes serve the sorts the API offers.
create index documents_by_created on documents (created_at, document_id);
create index documents_by_title on documents (lower(title), document_id);
create index documents_by_owner on documents (owner_id, created_at);
create index documents_by_tag on documents using gin (tags);
