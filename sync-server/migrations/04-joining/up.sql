-- People join on their own (see "Who joins how" in DESIGN.md).

-- Each site's short join code: what a poster shows and a person types
-- ("I work here"), with the server's address. Not a secret: it names the
-- site; the six-digit code sent to the person's contact is the proof.
ALTER TABLE sites ADD COLUMN join_code TEXT;
CREATE UNIQUE INDEX sites_by_join_code ON sites (join_code);

-- A device's token ends after a set time unused; each contact renews it.
-- `last_contact` (02-confirmed) is when it was last used.

-- Six-digit codes sent to a contact for "I work here". A row is written
-- whether or not the contact belongs to someone (`person_id` is null when
-- not), so that asking for an unknown contact does the same work and
-- gets the same answer; such a code never enrols anyone.
CREATE TABLE sign_in_codes (
    code_id      INTEGER PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites (site_id),
    -- SHA-256 of the normalised contact (lowercased e-mail, digits of a
    -- phone number): the contact itself is not kept.
    contact_hash TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    person_id    TEXT,
    role         TEXT,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    wrong_tries  INTEGER NOT NULL DEFAULT 0,
    -- Redeemed, or ended by too many wrong tries, or replaced by a newer one.
    ended_at     INTEGER
) STRICT;
CREATE INDEX sign_in_codes_by_contact ON sign_in_codes (site_id, contact_hash, created_at);
CREATE INDEX sign_in_codes_by_site ON sign_in_codes (site_id, created_at);

-- Operators sit above sites: root (everything, makes other operators) and
-- support (creates sites and invites, sees each site's health, never a
-- document).
CREATE TABLE operators (
    operator_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('root', 'support')),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    removed_at  INTEGER
) STRICT;

-- Invite codes: made by an operator for a company (the site to be);
-- redeemed once on a device, which creates the site and becomes its
-- first admin.
CREATE TABLE invites (
    code_hash   TEXT PRIMARY KEY,
    company     TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES operators (operator_id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    redeemed_at INTEGER,
    site_id     TEXT
) STRICT;

-- Every enrolment, code asked for, code redeemed or refused, revocation,
-- admin and operator call, and sign-in by link: when, where from, by whom.
CREATE TABLE audit (
    audit_id    INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    site_id     TEXT,
    device_id   TEXT,
    person_id   TEXT,
    operator_id TEXT,
    address     TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_by_site ON audit (site_id, at);
CREATE INDEX audit_by_time ON audit (at);
