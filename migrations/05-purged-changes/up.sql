-- The change hashes of documents deleted for good. A rejected guest's
-- saved changes offered again under a new document id carry the same
-- hashes: the server refuses them whatever id they come under. Hashes say
-- nothing of the guest; the changes themselves are gone.
CREATE TABLE purged_changes (
    hash BLOB PRIMARY KEY
) STRICT, WITHOUT ROWID;
