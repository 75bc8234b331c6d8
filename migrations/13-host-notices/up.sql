-- An announcement for one person (a host told that their guest is here):
-- whom it is for, and the visit it is about, so that it is erased with
-- the visit (retention, an admin's deletion).
ALTER TABLE announcements ADD COLUMN person_id TEXT;
ALTER TABLE announcements ADD COLUMN visit_id TEXT;
CREATE INDEX announcements_by_visit ON announcements (visit_id) WHERE visit_id IS NOT NULL;
