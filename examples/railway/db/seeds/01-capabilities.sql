-- seeds/01-capabilities.sql: the capability names staff tokens carry.
INSERT INTO auth.capabilities (name, description) VALUES
  ('events:read', 'see unpublished events'),
  ('registrations:read', 'see who registered'),
  ('registrations:write', 'register people by hand'),
  ('content:edit', 'edit pages');

INSERT INTO auth.staff (email, capabilities) VALUES
  ('ops@railway.example', '{events:read,registrations:read,registrations:write,content:edit}'),
  ('editor@railway.example', '{content:edit}');
