-- The append function of 004/013, set-based: the same contract (see 004), in three statements
-- per batch instead of a few per stream and event. Measured on a batch of 21 title changes
-- (each one event, plus the tenant's and membership's versions checked): 013 made 63 head reads
-- and 42 single-row inserts, and spent about as long again in PL/pgSQL between them.
--   1. every stream's head, read once (one backward index probe each);
--   2. the checks, per command in order, against those heads advanced in memory as each
--      accepted command appends (a command sees its batch predecessors' events, as before);
--   3. the events and their outbox rows in one statement, in command, stream and event order,
--      so positions and versions are drawn in the order 013 drew them.
-- Idempotency-Key rows are still written per command (only commands that carry one).
-- JIT is off for it: the planner guesses 100 rows per jsonb_array_elements, so the nested
-- expansions below cost enough to be JIT-compiled (measured: a second per call in LLVM).
create or replace function ll_append(batch jsonb) returns jsonb
language plpgsql set jit = off as $$
declare
  heads jsonb;
  ids text[];
  current integer[];
  command jsonb;
  cord integer;
  streams jsonb;
  stream jsonb;
  sord integer;
  i integer;
  conflict jsonb;
  accepted integer[] := '{}';
  outcomes jsonb[] := '{}';
  versions jsonb;
  idem jsonb;
  inserted integer;
  appended integer := 0;
  positions jsonb := '{}'::jsonb;
begin
  perform pg_advisory_xact_lock(hashtext('ledgerline.append'));

  -- Each stream's head when the batch starts: `heads` for the insert below, and `ids`/`current`
  -- for the checks, advanced in place as commands are accepted (jsonb objects are copied and
  -- re-sorted on every change).
  select coalesce(jsonb_object_agg(s.stream_id, coalesce(h.version, 0)), '{}'::jsonb),
         coalesce(array_agg(s.stream_id), '{}'), coalesce(array_agg(coalesce(h.version, 0)), '{}')
    into heads, ids, current
    from (select distinct st.value->>'streamId' as stream_id
            from jsonb_array_elements(batch) c
            cross join lateral jsonb_array_elements(c.value->'streams') st) s
    left join lateral (select e.stream_version as version from events e where e.stream_id = s.stream_id
                        order by e.stream_version desc limit 1) h on true;

  -- Loops walk the arrays by index: a FOR over a query opens a portal per loop, which cost more
  -- than everything else the loop does.
  for cord in 1 .. jsonb_array_length(batch) loop
    command := batch->(cord - 1);
    streams := command->'streams';
    conflict := null;
    for sord in 1 .. jsonb_array_length(streams) loop
      stream := streams->(sord - 1);
      if jsonb_typeof(stream->'expected') = 'number' then
        i := array_position(ids, stream->>'streamId');
        if current[i] <> (stream->>'expected')::integer then
          conflict := jsonb_build_object('status', 'conflict', 'streamId', stream->>'streamId',
                                         'expected', (stream->>'expected')::integer, 'actual', current[i]);
          exit;
        end if;
      end if;
    end loop;
    if conflict is not null then
      outcomes := outcomes || conflict;
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
        outcomes := outcomes || jsonb_build_object('status', 'idempotency_race');
        continue;
      end if;
    end if;

    versions := '{}'::jsonb;
    for sord in 1 .. jsonb_array_length(streams) loop
      stream := streams->(sord - 1);
      i := array_position(ids, stream->>'streamId');
      current[i] := current[i] + jsonb_array_length(stream->'events');
      appended := appended + jsonb_array_length(stream->'events');
      versions := versions || jsonb_build_object(stream->>'streamId', current[i]);
    end loop;
    accepted := accepted || cord;
    outcomes := outcomes || jsonb_build_object('status', 'ok', 'versions', versions,
                                               'occurredAt', to_json((command->>'occurredAt')::timestamptz)#>>'{}');
  end loop;

  if appended > 0 then
    -- The accepted commands' events in command, stream and event order: positions are drawn in
    -- that order, and each stream's versions count on from its head at the batch's start.
    -- The outbox rows reference the events inserted by the same statement: the foreign key is
    -- checked at the statement's end, when both are there.
    with src as materialized (
      select c.ordinality as c_no, s.ordinality as s_no, e.ordinality as e_no,
             c.value as c_json, s.value as s_json, e.value as e_json, (e.value->>'eventId')::uuid as event_id
        from jsonb_array_elements(batch) with ordinality c
        cross join lateral jsonb_array_elements(c.value->'streams') with ordinality s
        cross join lateral jsonb_array_elements(s.value->'events') with ordinality e
       where c.ordinality = any(accepted)
    ), ins as (
      insert into events (event_id, stream_id, stream_version, type, schema_version, category, tenant_id,
                          data, actor, correlation_id, causation_id, occurred_at)
      select event_id, s_json->>'streamId',
             (heads->>(s_json->>'streamId'))::integer
               + row_number() over (partition by s_json->>'streamId' order by c_no, s_no, e_no),
             e_json->>'type', (e_json->>'schemaVersion')::integer, e_json->>'category', (c_json->>'tenantId')::uuid,
             e_json->'data', c_json->>'actor', (c_json->>'correlationId')::uuid,
             (c_json->>'causationId')::uuid, (c_json->>'occurredAt')::timestamptz
        from src
       order by c_no, s_no, e_no
      returning global_position, event_id
    ), written as (
      select src.c_no, src.c_json, src.s_json, src.e_json, ins.global_position
        from ins join src using (event_id)
    ), outbox_rows as (
      insert into outbox (global_position, topic, message_key)
      select global_position, e_json->>'topic', coalesce(c_json->>'tenantId', s_json->>'streamId')
        from written
       order by global_position
    )
    select jsonb_object_agg(w.c_no::text, w.c_positions) into positions
      from (select c_no, jsonb_agg(global_position order by global_position) as c_positions
              from written group by c_no) w;

    perform pg_notify('ledgerline_outbox', '');
  end if;

  for cord in 1 .. coalesce(array_length(outcomes, 1), 0) loop
    continue when outcomes[cord]->>'status' <> 'ok';
    outcomes[cord] := outcomes[cord] || jsonb_build_object('positions', coalesce(positions->(cord::text), '[]'::jsonb));
    -- Each Idempotency-Key answer carries its command's last position (0 when it appended nothing).
    idem := batch->(cord - 1)->'idempotency';
    if idem is not null and jsonb_typeof(idem) = 'object' then
      update idempotency_keys
         set response = response || jsonb_build_object('position', coalesce(positions->(cord::text)->-1, '0'::jsonb))
       where actor = idem->>'actor' and key = idem->>'key';
    end if;
  end loop;
  return to_jsonb(outcomes);
end
$$;
