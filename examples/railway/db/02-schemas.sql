-- 02-schemas.sql: what the API roles may see. The schemas and citext come
-- from `uis db configure railway --schemas railway,auth --extensions citext`;
-- everything from here on is owned by the app's owner, railway_owner.
SET LOCAL ROLE railway_owner;

GRANT USAGE ON SCHEMA railway TO anon, authenticated;
GRANT USAGE ON SCHEMA auth TO authenticated;
