-- Number 08 is taken by another branch (announcements) that has not
-- merged yet; this empty step keeps the numbers consecutive until it
-- does, and goes away in that merge (its 08 replaces it).
SELECT 1;
