-- Uploads by reference (X-Content-SHA256) look stored content up by tenant and SHA-256: without
-- this, a scan of the tenant's events (the lookup by file id has its index since 003).
create index events_file_by_sha256 on events (tenant_id, (data->>'sha256')) where type = 'FileStored';
