-- Roll calls (issue #16): one row per roll call document, and one per
-- person or guest it expects, with where they stand now (the latest mark,
-- by time and id). Both are projections, rewritten from the document
-- whenever it changes here or arrives merged. A person may be a fire
-- marshal: their phone then takes part in roll calls.
CREATE TABLE roll_calls (
    roll_call_id    TEXT PRIMARY KEY,
    doc_id          TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    started_by      TEXT NOT NULL,
    ended_at        INTEGER,
    ended_by        TEXT
) STRICT;
CREATE INDEX roll_calls_by_doc ON roll_calls (doc_id);
CREATE INDEX roll_calls_open ON roll_calls (ended_at, started_at);

CREATE TABLE roll_call_people (
    roll_call_id    TEXT NOT NULL,
    -- person:<id> or visit:<id>
    subject         TEXT NOT NULL,
    doc_id          TEXT NOT NULL,
    -- staff | guest
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- a member of staff's department, a guest's company
    department      TEXT,
    company         TEXT,
    card            INTEGER,
    host_name       TEXT,
    -- missing | safe | not-here
    status          TEXT NOT NULL,
    marked_at       INTEGER,
    marked_by       TEXT,
    PRIMARY KEY (roll_call_id, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX roll_call_people_by_doc ON roll_call_people (doc_id);

ALTER TABLE people ADD COLUMN marshal INTEGER NOT NULL DEFAULT 0;
