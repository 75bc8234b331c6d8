-- Retention's anonymous daily counts of a site, as every instance's admins
-- are sent them. Each store of the site that erased documents (one per
-- instance's data directory, named by its Automerge actor) keeps its own
-- counts and copies all of them here after each sweep, in place of its
-- earlier copy: copying again after a crash adds nothing twice. A site's
-- count is the sum over its stores.
CREATE TABLE kept_counts (
    site_id  TEXT NOT NULL REFERENCES sites (site_id),
    store_id TEXT NOT NULL,
    day      TEXT NOT NULL,
    measure  TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (site_id, store_id, day, measure)
) STRICT;
