-- One round trip per append (message-db's write_message, Marten's quick append): the version
-- checks, the event and outbox rows, the Idempotency-Key answer and the relay's wake-up happen
-- inside the server, under the append lock, in whatever transaction calls this. Called as a
-- single statement outside an explicit transaction, the lock is held for server time only.
--
-- `batch` is an array of commands, each appended atomically or not at all:
--   { tenantId, actor, correlationId, causationId, occurredAt,
--     streams: [{ streamId, expected (int, or null for "any"), events: [{ eventId, type, schemaVersion, category, topic, data }] }],
--     idempotency?: { actor, key, hash, statusCode, body } }
-- It answers one result per command, in order:
--   { status: 'ok', positions: [..], versions: { streamId: n }, occurredAt }
--   { status: 'conflict', streamId, expected, actual }  (nothing of that command was written)
--   { status: 'idempotency_race' }                      (a twin with the same key answered first)
-- Positions are drawn under the lock, so they are handed out in commit order (the relay and every
-- checkpoint watermark rely on it); a batch of several commands commits once (group commit).
create or replace function ll_append(batch jsonb) returns jsonb
language plpgsql as $$
declare
  command jsonb;
  stream jsonb;
  event jsonb;
  results jsonb := '[]'::jsonb;
  conflict jsonb;
  actual integer;
  next_version integer;
  pos bigint;
  positions jsonb;
  versions jsonb;
  occurred timestamptz;
  idem jsonb;
  inserted integer;
begin
  perform pg_advisory_xact_lock(hashtext('ledgerline.append'));
  for command in select value from jsonb_array_elements(batch) loop
    conflict := null;
    for stream in select value from jsonb_array_elements(command->'streams') loop
      if jsonb_typeof(stream->'expected') = 'number' then
        select coalesce(max(stream_version), 0) into actual from events where stream_id = stream->>'streamId';
        if actual <> (stream->>'expected')::integer then
          conflict := jsonb_build_object('status', 'conflict', 'streamId', stream->>'streamId',
                                         'expected', (stream->>'expected')::integer, 'actual', actual);
          exit;
        end if;
      end if;
    end loop;
    if conflict is not null then
      results := results || jsonb_build_array(conflict);
      continue;
    end if;

    idem := command->'idempotency';
    if idem is not null and jsonb_typeof(idem) = 'object' then
      delete from idempotency_keys
       where actor = idem->>'actor' and key = idem->>'key' and created_at <= now() - interval '24 hours';
      insert into idempotency_keys (actor, key, request_hash, status_code, response)
      values (idem->>'actor', idem->>'key', idem->>'hash', (idem->>'statusCode')::integer, idem->'body')
      on conflict do nothing;
      get diagnostics inserted = row_count;
      if inserted = 0 then
        results := results || jsonb_build_array(jsonb_build_object('status', 'idempotency_race'));
        continue;
      end if;
    end if;

    occurred := (command->>'occurredAt')::timestamptz;
    positions := '[]'::jsonb;
    versions := '{}'::jsonb;
    for stream in select value from jsonb_array_elements(command->'streams') loop
      select coalesce(max(stream_version), 0) into next_version from events where stream_id = stream->>'streamId';
      for event in select value from jsonb_array_elements(stream->'events') loop
        next_version := next_version + 1;
        insert into events (event_id, stream_id, stream_version, type, schema_version, category, tenant_id,
                            data, actor, correlation_id, causation_id, occurred_at)
        values ((event->>'eventId')::uuid, stream->>'streamId', next_version, event->>'type',
                (event->>'schemaVersion')::integer, event->>'category', (command->>'tenantId')::uuid,
                event->'data', command->>'actor', (command->>'correlationId')::uuid,
                (command->>'causationId')::uuid, occurred)
        returning global_position into pos;
        insert into outbox (global_position, topic, message_key)
        values (pos, event->>'topic', coalesce(command->>'tenantId', stream->>'streamId'));
        positions := positions || to_jsonb(pos);
      end loop;
      versions := versions || jsonb_build_object(stream->>'streamId', next_version);
    end loop;

    if idem is not null and jsonb_typeof(idem) = 'object' then
      update idempotency_keys
         set response = response || jsonb_build_object('position', coalesce(positions->-1, '0'::jsonb))
       where actor = idem->>'actor' and key = idem->>'key';
    end if;
    results := results || jsonb_build_array(jsonb_build_object(
      'status', 'ok', 'positions', positions, 'versions', versions, 'occurredAt', to_json(occurred)#>>'{}'));
  end loop;
  perform pg_notify('ledgerline_outbox', '');
  return results;
end
$$;

-- Caches of the APIs (sessions, memberships, tenants) are invalidated by these notifications,
-- sent at commit by whatever changes the rows: the command API, the projectors, an operator's SQL.
create or replace function ll_notify_invalidation() returns trigger
language plpgsql as $$
declare
  subject record;
begin
  subject := coalesce(new, old);
  if tg_table_name = 'sessions' then
    perform pg_notify('ledgerline_invalidate', 'session:' || subject.session_id);
  elsif tg_table_name = 'memberships' then
    perform pg_notify('ledgerline_invalidate', 'membership:' || subject.tenant_id || ':' || subject.user_id);
  elsif tg_table_name = 'tenants' then
    perform pg_notify('ledgerline_invalidate', 'tenant:' || subject.tenant_id);
  end if;
  return null;
end
$$;

create trigger sessions_invalidate after update or delete on sessions
  for each row execute function ll_notify_invalidation();
create trigger memberships_invalidate after insert or update or delete on memberships
  for each row execute function ll_notify_invalidation();
create trigger tenants_invalidate after insert or update or delete on tenants
  for each row execute function ll_notify_invalidation();
