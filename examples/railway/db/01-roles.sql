-- 01-roles.sql: the PostgREST role pattern with the canonical names of the
-- PostgREST docs (friction F8: the customer's policies say TO anon).
-- Runs as the superuser: `uis db seed railway db/ --as admin`.
-- Idempotent, so it is safe with \i from other scripts too.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    -- No password here: `uis postgrest deploy` issues and stores one.
    CREATE ROLE authenticator LOGIN NOINHERIT NOCREATEDB NOCREATEROLE NOSUPERUSER;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END
$$;

GRANT anon TO authenticator;
GRANT authenticated TO authenticator;
GRANT CONNECT ON DATABASE railway TO authenticator;
