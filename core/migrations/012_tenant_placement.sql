-- Tenant placement (issue 14): the server each tenant's database is on, by name (TENANT_SERVERS
-- maps names to connection URLs). Projected by the main projector from TenantPlaced into the
-- tenants row, so the query API's membership cache (invalidated by the tenants trigger) drops a
-- moved tenant's old place with the rest of its row. Tenants older than placement are on `main`.
alter table tenants add column server text not null default 'main';

-- The placement map as the command API reads it to place a new tenant on the least used server.
create view tenant_placements as
  select tenant_id, server, database_name from tenants where status <> 'deleted';
