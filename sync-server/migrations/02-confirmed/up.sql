-- How far each device has confirmed the site's change feed: the highest
-- feed number up to which it said the deletions it was sent are gone from
-- its store (its answer to a deletion, or the number in its hello). An
-- erasure report counts a device as confirmed once this reaches the
-- report's number.
ALTER TABLE devices ADD COLUMN confirmed_seq INTEGER NOT NULL DEFAULT 0;
