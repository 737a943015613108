-- 04-functions.sql: RPCs PostgREST exposes under /rpc.
SET LOCAL ROLE railway_owner;

-- The capabilities claim of the current request's token, as PostgREST sets it.
CREATE FUNCTION auth.has_capability(cap text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (current_setting('request.jwt.claims', true)::json -> 'capabilities')::jsonb ? cap,
    false)
$$;

CREATE FUNCTION railway.upcoming_events() RETURNS SETOF railway.events
LANGUAGE sql STABLE AS $$
  SELECT * FROM railway.events WHERE starts_at > now() ORDER BY starts_at
$$;

-- Anonymous visitors register for public events; the function runs as its owner.
CREATE FUNCTION railway.register(event int, address citext) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = railway, public AS $$
DECLARE
  new_id int;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM railway.events WHERE id = event AND is_public) THEN
    RAISE EXCEPTION 'no public event %', event USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO railway.registrations (event_id, email) VALUES (event, address)
  ON CONFLICT (event_id, email) DO UPDATE SET email = excluded.email
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

REVOKE EXECUTE ON FUNCTION railway.register(int, citext) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION railway.register(int, citext) TO anon, authenticated;
GRANT EXECUTE ON FUNCTION railway.upcoming_events() TO anon, authenticated;
GRANT EXECUTE ON FUNCTION auth.has_capability(text) TO authenticated;
