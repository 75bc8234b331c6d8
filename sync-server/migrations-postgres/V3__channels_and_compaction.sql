-- A site's channels: its Slack incoming webhooks and its own mail relay,
-- as in the SQLite registry's 06-channels: here every instance reads them;
-- each instance's store of the site holds a copy of the hooks for its jobs
-- (sync-server/src/site_channels.rs). A change is told to the instances at
-- its commit (`NOTIFY lodge_channels`, the site's id).
CREATE TABLE slack_hooks (
    site_id  TEXT NOT NULL REFERENCES sites (site_id),
    hook_id  BIGINT NOT NULL,
    url      TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, hook_id),
    UNIQUE (site_id, url)
);

CREATE TABLE mail_relays (
    site_id   TEXT PRIMARY KEY REFERENCES sites (site_id),
    smtp_url  TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    set_at    BIGINT NOT NULL
);

ALTER TABLE sites ADD COLUMN last_hook_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN channels_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN channels_here BOOLEAN NOT NULL DEFAULT FALSE;

-- A document's kept changes: found when it is deleted for good (they go
-- with it) and when they are folded into the whole document
-- (sync-server/src/relay.rs, `compact`).
CREATE INDEX changes_by_doc ON changes (site_id, doc_id, seq);
