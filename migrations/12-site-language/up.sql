-- The language a site's messages (e-mail, text, Slack) are written in:
-- en, pl, uk or ru; sites made before it write English.
ALTER TABLE sites ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
