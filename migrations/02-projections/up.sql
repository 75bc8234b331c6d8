-- Projections: rows derived from documents, rewritten in the same transaction
-- as every change (local or merged). Never edited by hand, never the truth.
-- No UNIQUE constraints on values that come from merged documents: two
-- offline devices may write the same value, and a merge must never fail.

CREATE TABLE sites (
    doc_id                 TEXT PRIMARY KEY,
    site_id                TEXT NOT NULL,
    name                   TEXT NOT NULL,
    time_zone              TEXT NOT NULL,
    retention_days         INTEGER NOT NULL,
    reminder_time          TEXT NOT NULL,
    contact_required       INTEGER NOT NULL,
    purpose_required       INTEGER NOT NULL,
    consent_text           TEXT NOT NULL
) STRICT;

CREATE TABLE card_types (
    type_id    TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL,
    label      TEXT NOT NULL,
    first      INTEGER NOT NULL,
    last       INTEGER NOT NULL,
    for_guests INTEGER NOT NULL
) STRICT;

CREATE TABLE cards (
    number  INTEGER PRIMARY KEY,
    doc_id  TEXT NOT NULL,
    type_id TEXT NOT NULL,
    uid     TEXT,
    active  INTEGER NOT NULL
) STRICT;
CREATE INDEX cards_by_uid ON cards (uid) WHERE uid IS NOT NULL;

CREATE TABLE departments (
    department_id TEXT PRIMARY KEY,
    doc_id        TEXT NOT NULL,
    name          TEXT NOT NULL
) STRICT;

CREATE TABLE affiliations (
    affiliation_id   TEXT PRIMARY KEY,
    doc_id           TEXT NOT NULL,
    name             TEXT NOT NULL,
    requires_user_id INTEGER NOT NULL
) STRICT;

CREATE TABLE key_types (
    key_type_id TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    loan_days   INTEGER NOT NULL
) STRICT;

CREATE TABLE repair_categories (
    category_id TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    name        TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    person_id   TEXT PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    department  TEXT,
    affiliation TEXT,
    user_id     TEXT,
    roles       TEXT NOT NULL,
    badge_card  INTEGER,
    active      INTEGER NOT NULL
) STRICT;
CREATE INDEX people_by_email ON people (email);
CREATE INDEX people_by_card ON people (badge_card) WHERE badge_card IS NOT NULL;

CREATE TABLE directory (
    person_id  TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    department TEXT
) STRICT;

CREATE TABLE visits (
    visit_id      TEXT PRIMARY KEY,
    doc_id        TEXT NOT NULL,
    state         TEXT NOT NULL,
    guest_name    TEXT NOT NULL,
    company       TEXT NOT NULL,
    email         TEXT,
    phone         TEXT,
    host_id       TEXT NOT NULL,
    host_name     TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    card          INTEGER,
    registered_at INTEGER NOT NULL,
    admitted_at   INTEGER,
    left_at       INTEGER,
    registered_by TEXT NOT NULL
) STRICT;
CREATE INDEX visits_by_state ON visits (state, registered_at);
CREATE INDEX visits_by_card ON visits (card) WHERE state = 'admitted';
CREATE INDEX visits_by_time ON visits (registered_at);

CREATE TABLE presence_events (
    event_id  TEXT PRIMARY KEY,
    doc_id    TEXT NOT NULL,
    person_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    -- Position in its document: orders events of equal time.
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    voided    INTEGER NOT NULL
) STRICT;
CREATE INDEX presence_by_person ON presence_events (person_id, at, seq);
CREATE INDEX presence_by_doc ON presence_events (doc_id);

-- Who is in now: one row per person whose latest valid event is a sign-in.
CREATE TABLE presence_now (
    person_id TEXT PRIMARY KEY,
    since     INTEGER NOT NULL,
    event_id  TEXT NOT NULL
) STRICT;

CREATE TABLE keys (
    key_id  TEXT PRIMARY KEY,
    doc_id  TEXT NOT NULL,
    type_id TEXT NOT NULL,
    label   TEXT NOT NULL,
    active  INTEGER NOT NULL
) STRICT;

CREATE TABLE loans (
    loan_id   TEXT PRIMARY KEY,
    key_id    TEXT NOT NULL,
    doc_id    TEXT NOT NULL,
    customer  TEXT NOT NULL,
    type_id   TEXT NOT NULL,
    out_at    INTEGER NOT NULL,
    due_at    INTEGER NOT NULL,
    closed_at INTEGER,
    state     TEXT NOT NULL,
    renewals  INTEGER NOT NULL
) STRICT;
CREATE INDEX loans_by_customer ON loans (customer, state);
CREATE INDEX loans_by_state ON loans (state, due_at);
CREATE INDEX loans_by_key ON loans (key_id, state);

CREATE TABLE loan_exceptions (
    exception_id TEXT PRIMARY KEY,
    doc_id       TEXT NOT NULL,
    customer     TEXT NOT NULL,
    type_id      TEXT NOT NULL,
    max_keys     INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL
) STRICT;
CREATE INDEX loan_exceptions_by_customer ON loan_exceptions (customer, type_id);

CREATE TABLE equipment (
    item_id         TEXT PRIMARY KEY,
    doc_id          TEXT NOT NULL,
    asset_number    TEXT NOT NULL,
    activation_code TEXT NOT NULL,
    name            TEXT NOT NULL,
    item_type       TEXT NOT NULL,
    active          INTEGER NOT NULL,
    holder          TEXT,
    held_since      INTEGER
) STRICT;
CREATE INDEX equipment_by_code ON equipment (activation_code);
CREATE INDEX equipment_by_asset ON equipment (asset_number);
CREATE INDEX equipment_by_holder ON equipment (holder) WHERE holder IS NOT NULL;

CREATE TABLE custody (
    item_id  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    holder   TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome  TEXT NOT NULL,
    flagged  INTEGER NOT NULL,
    PRIMARY KEY (item_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX custody_flagged ON custody (flagged) WHERE flagged = 1;

CREATE TABLE repairs (
    ticket_id  TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    category   TEXT NOT NULL,
    state      TEXT NOT NULL,
    opened_by  TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    notes      INTEGER NOT NULL,
    summary    TEXT NOT NULL
) STRICT;
CREATE INDEX repairs_by_state ON repairs (state, updated_at);
CREATE INDEX repairs_by_item ON repairs (item_id, state);

-- Broken invariants after a merge, each with a provisional winner that every
-- replica computes the same way.
CREATE TABLE conflicts (
    conflict_id TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    parties     TEXT NOT NULL,
    winner      TEXT NOT NULL,
    summary     TEXT NOT NULL
) STRICT;

CREATE TABLE repair_log (
    ticket_id TEXT NOT NULL,
    entry_id  TEXT NOT NULL,
    doc_id    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    by        TEXT NOT NULL,
    note      TEXT,
    state     TEXT,
    PRIMARY KEY (ticket_id, entry_id)
) STRICT, WITHOUT ROWID;

-- Every projection is rewritten by document id: index it everywhere.
CREATE INDEX people_by_doc ON people (doc_id);
CREATE INDEX directory_by_doc ON directory (doc_id);
CREATE INDEX visits_by_doc ON visits (doc_id);
CREATE INDEX keys_by_doc ON keys (doc_id);
CREATE INDEX loans_by_doc ON loans (doc_id);
CREATE INDEX loan_exceptions_by_doc ON loan_exceptions (doc_id);
CREATE INDEX equipment_by_doc ON equipment (doc_id);
CREATE INDEX repairs_by_doc ON repairs (doc_id);
CREATE INDEX repair_log_by_doc ON repair_log (doc_id);
CREATE INDEX cards_by_doc ON cards (doc_id);
