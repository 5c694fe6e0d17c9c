-- The command API looks stored content up by tenant and SHA-256 (uploads by reference) and a
-- file's stream by its id (document deletion): without these, each is a scan of every event.
create index events_file_by_sha256 on events (tenant_id, (data->>'sha256')) where type = 'FileStored';
create index events_file_by_id on events ((data->>'fileId')) where type = 'FileStored';
