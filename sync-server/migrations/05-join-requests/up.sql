-- Workers who are not yet people of the site ask to join with the site's
-- join code, their name and their contact; the admin approves or refuses.
-- The contact is kept (normalised) because the admin must see who asked
-- and the person is made from it; a request is forgotten 30 days after it
-- was made.
CREATE TABLE join_requests (
    request_id   INTEGER PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites (site_id),
    name         TEXT NOT NULL,
    contact      TEXT NOT NULL,
    contact_hash TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    -- waiting | approved | refused
    state        TEXT NOT NULL DEFAULT 'waiting',
    decided_at   INTEGER
) STRICT;
CREATE UNIQUE INDEX join_requests_waiting ON join_requests (site_id, contact_hash) WHERE state = 'waiting';

-- E-mail domains whose people are approved by the code they receive.
CREATE TABLE join_domains (
    site_id TEXT NOT NULL REFERENCES sites (site_id),
    domain  TEXT NOT NULL,
    PRIMARY KEY (site_id, domain)
) STRICT, WITHOUT ROWID;

-- A code made as a login link (by a phone for its own person, or by an
-- admin for someone's phone): its redemption is kept in the audit trail
-- as a sign-in by link.
ALTER TABLE enrolment_codes ADD COLUMN login_link INTEGER NOT NULL DEFAULT 0;
