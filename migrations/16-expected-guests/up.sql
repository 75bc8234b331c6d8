-- Expected guests: a visit made before the guest comes, for a day, with the
-- invitation code the guest shows at the kiosk. NULL for a walk-in.
ALTER TABLE visits ADD COLUMN expected_on TEXT;
ALTER TABLE visits ADD COLUMN invitation TEXT;
CREATE INDEX visits_expected ON visits (expected_on) WHERE state = 'expected';
-- Not unique: a projection never refuses what merged (codes are random).
CREATE INDEX visits_invitation ON visits (invitation) WHERE invitation IS NOT NULL;
