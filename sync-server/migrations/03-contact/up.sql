-- When each device was last in touch, the app version it named in its
-- hello, and the feed number it had reached then (what the admin's list of
-- devices shows: last contact, app version, changes waiting for it).
ALTER TABLE devices ADD COLUMN last_contact INTEGER;
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN seen_seq INTEGER NOT NULL DEFAULT 0;
