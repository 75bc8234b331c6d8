-- The consent text in other languages than the site's own, by language code,
-- as a JSON object: a guest reads the one of the kiosk's language.
ALTER TABLE sites ADD COLUMN consent_texts TEXT NOT NULL DEFAULT '{}';
