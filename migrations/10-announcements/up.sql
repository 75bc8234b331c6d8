-- Announcements and emergencies (issue #14): one row per announcement
-- document, and one per reader (a device, or a person where no device is
-- known) with its earliest "I have seen this". Both are projections,
-- rewritten from the document whenever it changes here or arrives merged.
CREATE TABLE announcements (
    announcement_id TEXT PRIMARY KEY,
    doc_id          TEXT NOT NULL,
    -- announcement | emergency
    kind            TEXT NOT NULL,
    -- everyone | all-staff | department
    audience        TEXT NOT NULL,
    department      TEXT,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    sent_by         TEXT NOT NULL,
    sender_name     TEXT NOT NULL,
    sender_device   TEXT,
    sender_person   TEXT
) STRICT;
CREATE INDEX announcements_by_doc ON announcements (doc_id);

CREATE TABLE announcement_reads (
    announcement_id TEXT NOT NULL,
    -- device:<id>, person:<id> or actor:<tag>
    reader          TEXT NOT NULL,
    doc_id          TEXT NOT NULL,
    name            TEXT NOT NULL,
    device_id       TEXT,
    person_id       TEXT,
    at              INTEGER NOT NULL,
    PRIMARY KEY (announcement_id, reader)
) STRICT, WITHOUT ROWID;
CREATE INDEX announcement_reads_by_doc ON announcement_reads (doc_id);
