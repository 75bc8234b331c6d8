-- Retention's records of a site, as every instance reads them. Each store
-- of the site that erased documents (one per instance's data directory,
-- named by its Automerge actor) keeps its own counts and reports, in the
-- erasing transaction, and copies them here after each sweep and when the
-- site is opened: copying again after a crash adds nothing twice.

-- Anonymous daily counts: each store's copy replaces its last one; a
-- site's count is the sum over its stores.
CREATE TABLE kept_counts (
    site_id  TEXT NOT NULL REFERENCES sites (site_id),
    store_id TEXT NOT NULL,
    day      TEXT NOT NULL,
    measure  TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (site_id, store_id, day, measure)
) STRICT;

-- Erasure reports, one per sweep, numbered here for every instance (a
-- store's own number is kept to copy each once).
CREATE TABLE erasure_reports (
    report_id       INTEGER PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (site_id),
    store_id        TEXT NOT NULL,
    store_report_id INTEGER NOT NULL,
    ran_at          INTEGER NOT NULL,
    visits          INTEGER NOT NULL,
    presence_months INTEGER NOT NULL,
    feed_seq        INTEGER,
    UNIQUE (site_id, store_id, store_report_id)
) STRICT;

-- The devices told of a sweep's deletions.
CREATE TABLE erasure_report_devices (
    report_id INTEGER NOT NULL REFERENCES erasure_reports (report_id),
    device_id TEXT NOT NULL,
    PRIMARY KEY (report_id, device_id)
) STRICT;
