-- The server's registry: sites, enrolment codes, devices and the change
-- feed. Documents themselves live in one Lodge store per site.

CREATE TABLE sites (
    site_id TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    -- Last change-feed sequence handed out for this site.
    seq     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE enrolment_codes (
    code_hash   TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (site_id),
    role        TEXT NOT NULL,
    person_id   TEXT,
    expires_at  INTEGER NOT NULL,
    redeemed_at INTEGER
) STRICT;

CREATE TABLE devices (
    device_id   TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (site_id),
    role        TEXT NOT NULL,
    person_id   TEXT,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    -- The Automerge actor id the device writes under (hex).
    actor       TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

-- Per site, the last sequence at which each document's heads changed.
CREATE TABLE feed (
    site_id TEXT NOT NULL,
    doc_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    purged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, doc_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX feed_by_seq ON feed (site_id, seq);
