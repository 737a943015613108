-- 03-tables.sql: application and auth tables.
SET LOCAL ROLE railway_owner;

CREATE TABLE railway.events (
  id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title       text NOT NULL,
  starts_at   timestamptz NOT NULL,
  is_public   boolean NOT NULL DEFAULT false
);

CREATE TABLE railway.registrations (
  id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    int NOT NULL REFERENCES railway.events(id),
  email       citext NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, email)
);

CREATE TABLE railway.pages (
  slug        text PRIMARY KEY,
  body        text NOT NULL,
  published   boolean NOT NULL DEFAULT false
);

-- The capabilities a staff token may carry (`uis jwt mint railway --role authenticated`).
CREATE TABLE auth.capabilities (
  name        text PRIMARY KEY,
  description text NOT NULL
);

CREATE TABLE auth.staff (
  email        citext PRIMARY KEY,
  capabilities text[] NOT NULL DEFAULT '{}'
);

GRANT SELECT ON railway.events, railway.pages TO anon, authenticated;
GRANT SELECT, INSERT ON railway.registrations TO authenticated;
GRANT SELECT, UPDATE ON railway.pages TO authenticated;
GRANT SELECT ON auth.capabilities TO authenticated;
