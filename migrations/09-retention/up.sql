-- Retention (issue #14): what the server keeps when it erases documents
-- past their site's limits. Only the server's stores fill these tables.

-- The site's limit for sign-in records; NULL on sites made before it
-- existed (they keep the default, see `lodge_core::retention`).
ALTER TABLE sites ADD COLUMN presence_retention_days INTEGER;

-- Anonymous daily counts of erased documents: what an erased visit or
-- presence month added to a statistic on a day (in the site's time zone),
-- so that statistics outlive the data. No names, no ids.
CREATE TABLE kept_counts (
    -- YYYY-MM-DD
    day     TEXT NOT NULL,
    -- visits-registered | visits-admitted | sign-ins | people-signed-in
    measure TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (day, measure)
) STRICT, WITHOUT ROWID;

-- One row per retention sweep: when, how many documents of each kind it
-- erased, and the change-feed number of its last deletion (NULL when it
-- erased nothing).
CREATE TABLE erasure_reports (
    report_id       INTEGER PRIMARY KEY,
    ran_at          INTEGER NOT NULL,
    visits          INTEGER NOT NULL,
    presence_months INTEGER NOT NULL,
    feed_seq        INTEGER
) STRICT;

-- The devices that were told of a sweep's deletions (those that may have
-- held one of the documents): each confirms once it has applied the
-- feed up to the report's number.
CREATE TABLE erasure_report_devices (
    report_id INTEGER NOT NULL REFERENCES erasure_reports (report_id),
    device_id TEXT NOT NULL,
    PRIMARY KEY (report_id, device_id)
) STRICT, WITHOUT ROWID;
