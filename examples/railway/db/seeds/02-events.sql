-- seeds/02-events.sql: events (3 public, 2 not), pages and registrations.
COPY railway.events (title, starts_at, is_public) FROM stdin;
Open day at the depot	2030-05-01 10:00:00+00	t
Steam weekend	2030-06-14 09:00:00+00	t
Night train to the coast	2030-07-20 21:00:00+00	t
Volunteers' briefing	2030-04-20 18:00:00+00	f
Board meeting	2030-04-25 17:00:00+00	f
\.

INSERT INTO railway.pages (slug, body, published) VALUES
  ('about', 'We run heritage trains.', true),
  ('draft-timetable', 'Summer timetable (draft).', false);

INSERT INTO railway.registrations (event_id, email)
SELECT e.id, addr
FROM railway.events e, (VALUES ('ada@example.org'), ('ALAN@example.org')) AS a(addr)
WHERE e.is_public;
