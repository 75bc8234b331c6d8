-- Retention's anonymous daily counts of a site, as in the SQLite
-- registry's 07-kept-counts: each instance's store of the site copies all
-- its counts here after each sweep, in place of its earlier copy; a
-- site's count is the sum over its stores.
CREATE TABLE kept_counts (
    site_id  TEXT NOT NULL REFERENCES sites (site_id),
    store_id TEXT NOT NULL,
    day      TEXT NOT NULL,
    measure  TEXT NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (site_id, store_id, day, measure)
);
