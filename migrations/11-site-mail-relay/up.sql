-- A site's own mail relay, overriding the server's (`lodge-sync mail set`):
-- kept in the server's store of the site only, never in a document, since
-- its URL may hold the relay's password. At most one row.
CREATE TABLE mail_relay (
    only_one  INTEGER PRIMARY KEY CHECK (only_one = 1),
    smtp_url  TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    set_at    INTEGER NOT NULL
) STRICT;
