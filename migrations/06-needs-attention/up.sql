-- Needs attention: documents whose local changes the server refused. They
-- leave the outbox (so they are not sent again at every connect and the
-- device can be online) and wait here, the local document untouched, until
-- a person discards the changes or sends them again.
CREATE TABLE attention (
    doc_id     TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    -- The refusal as the server typed it (`lodge_core::sync::Refusal`, JSON).
    refusal    TEXT NOT NULL,
    refused_at INTEGER NOT NULL,
    -- The commands of the refused local changes, from their change
    -- messages (JSON array of names such as "activate_equipment").
    commands   TEXT NOT NULL
) STRICT;
