-- What the server is to do when nobody is looking: one row per message
-- to send (a host told that their guest is here, ...), written in the same
-- transaction as the fact that causes it. `job_key` is the fact and the
-- rule (or the rule, site and day for scheduled work): a fact that
-- arrives twice (two desks' merged copies, a device re-sending) finds its
-- job already there and adds nothing. Only the server's stores fill it.
CREATE TABLE jobs (
    job_id     INTEGER PRIMARY KEY,
    rule       TEXT NOT NULL,
    job_key    TEXT NOT NULL UNIQUE,
    -- The document the fact is about (a visit), so that its erasure
    -- takes its unsent messages with it.
    subject    TEXT NOT NULL,
    -- The fact within it, where a document holds many (a sign-in of a
    -- presence month), and the channel it goes to, where a site has many
    -- (a Slack hook).
    event      TEXT,
    hook_id    INTEGER,
    fact_at    INTEGER NOT NULL,
    queued_at  INTEGER NOT NULL,
    -- queued | sent | failed | expired | cancelled
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL,
    -- Taken by a sender and not finished: a server killed mid-send finds
    -- it so at start, and sends it again.
    sending    INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at    INTEGER
) STRICT;
CREATE INDEX jobs_due ON jobs (next_at) WHERE state = 'queued';
CREATE INDEX jobs_by_subject ON jobs (subject);
CREATE INDEX jobs_by_state ON jobs (state, queued_at);

-- The site's Slack incoming webhooks (the server's own: a secret URL never
-- goes into a document that replicates). Each sign-in or sign-out is a
-- job per hook, so a hook that fails is retried alone.
CREATE TABLE slack_hooks (
    hook_id  INTEGER PRIMARY KEY,
    url      TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL
) STRICT;
