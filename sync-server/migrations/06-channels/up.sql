-- A site's channels: its Slack incoming webhooks and its own mail relay.
-- Kept here, where every instance of the server reads them, and never in a
-- document (the URLs are the secrets). Each store of the site holds a copy
-- of the hooks for its jobs (sync-server/src/site_channels.rs); they were
-- kept in the store alone before, and are brought here once
-- (`channels_here`).
CREATE TABLE slack_hooks (
    site_id  TEXT NOT NULL REFERENCES sites (site_id),
    hook_id  INTEGER NOT NULL,
    url      TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, hook_id),
    UNIQUE (site_id, url)
) STRICT;

CREATE TABLE mail_relays (
    site_id   TEXT PRIMARY KEY REFERENCES sites (site_id),
    smtp_url  TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    set_at    INTEGER NOT NULL
) STRICT;

-- The last hook number the site gave: a removed hook's number is never
-- given again (its jobs' keys name it).
ALTER TABLE sites ADD COLUMN last_hook_id INTEGER NOT NULL DEFAULT 0;
-- Counts every change of the site's channels: an instance whose copy is
-- older copies them again.
ALTER TABLE sites ADD COLUMN channels_version INTEGER NOT NULL DEFAULT 0;
-- Whether the channels its store held have been brought here.
ALTER TABLE sites ADD COLUMN channels_here INTEGER NOT NULL DEFAULT 0;
