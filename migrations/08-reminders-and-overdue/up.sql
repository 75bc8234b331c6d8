-- The end-of-day reminder and overdue keys (issue "The server acts"):
-- a department's administrative contact, told of its people's keys long
-- overdue, and after how many days; a person's preferred way to be
-- reminded (email | sms, NULL: e-mail where they have one).
ALTER TABLE departments ADD COLUMN contact TEXT;
ALTER TABLE sites ADD COLUMN overdue_contact_after_days INTEGER NOT NULL DEFAULT 3;
ALTER TABLE people ADD COLUMN preferred_contact TEXT;
