-- The change hashes of documents deleted for good. A rejected guest's
-- saved changes offered again under a new document id carry the same
-- hashes: the server refuses them whatever id they come under. Hashes say
-- nothing of the guest; the changes themselves are gone.
CREATE TABLE purged_changes (
    hash BLOB PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Who owned a document deleted for good (its header's owner), so that the
-- server tells a deletion only to devices that may have known the
-- document: a kiosk hears of its own guests' rejections, nobody else's.
ALTER TABLE tombstones ADD COLUMN owner TEXT;
