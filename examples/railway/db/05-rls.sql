-- 05-rls.sql: row-level security. Policies name the roles PostgREST really
-- uses (anon, authenticated), and staff rows depend on the token's
-- `capabilities` claim, read from request.jwt.claims.
SET LOCAL ROLE railway_owner;

ALTER TABLE railway.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE railway.registrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE railway.pages ENABLE ROW LEVEL SECURITY;

CREATE POLICY events_public ON railway.events FOR SELECT TO anon
  USING (is_public);
CREATE POLICY events_staff ON railway.events FOR SELECT TO authenticated
  USING (is_public OR auth.has_capability('events:read'));

CREATE POLICY registrations_staff ON railway.registrations FOR SELECT TO authenticated
  USING (auth.has_capability('registrations:read'));
CREATE POLICY registrations_insert ON railway.registrations FOR INSERT TO authenticated
  WITH CHECK (auth.has_capability('registrations:write'));

CREATE POLICY pages_public ON railway.pages FOR SELECT TO anon
  USING (published);
CREATE POLICY pages_staff ON railway.pages FOR SELECT TO authenticated
  USING (published OR auth.has_capability('content:edit'));
CREATE POLICY pages_edit ON railway.pages FOR UPDATE TO authenticated
  USING (auth.has_capability('content:edit'));
