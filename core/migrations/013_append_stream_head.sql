-- A stream's head is its last row, read from the (stream_id, stream_version) index: one index
-- probe whatever the stream's length. 004 asked for max(stream_version), which PostgreSQL plans
-- as a scan of every row of the stream whenever the table's statistics are stale or small
-- (measured: 600 heap fetches and 1.6 ms for a 600-event stream, so appends slowed as streams
-- grew). Everything else is 004's function, unchanged.
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
        actual := coalesce((select e.stream_version from events e where e.stream_id = stream->>'streamId'
                            order by e.stream_version desc limit 1), 0);
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
      next_version := coalesce((select e.stream_version from events e where e.stream_id = stream->>'streamId'
                                  order by e.stream_version desc limit 1), 0);
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
