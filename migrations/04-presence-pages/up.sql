-- Presence rows keyed by their document, without rowids. A sign-in written
-- or received wrote four pages of presence_events (the table, its event_id
-- index, the person index, the document index) and two of presence_now
-- (the table and its key index); each page is a page in the log, on every
-- device that takes the change. Now it writes two and one. Both tables are
-- projections: they are rebuilt from the documents after this upgrade.

DROP TABLE presence_events;
CREATE TABLE presence_events (
    doc_id    TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    person_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    -- Position in its document: orders events of equal time.
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    voided    INTEGER NOT NULL,
    PRIMARY KEY (doc_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX presence_by_person ON presence_events (person_id, at, seq);

-- Who is in now: one row per person whose latest valid event is a sign-in.
DROP TABLE presence_now;
CREATE TABLE presence_now (
    person_id TEXT PRIMARY KEY,
    since     INTEGER NOT NULL,
    event_id  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
