-- What the web queue orders pending cases by, read once from the inspection when the message is
-- written (so the queue never parses stored inspections): the named high-risk DASH answers marked
-- Yes (JSON array: strangulation, threats to kill, weapons, pregnancy), the number of children in
-- the household, and the referring agency as the form names it. Rows written before this
-- migration are filled from their inspection by the store when it applies it.

ALTER TABLE messages ADD COLUMN high_risk TEXT;
ALTER TABLE messages ADD COLUMN children INTEGER;
ALTER TABLE messages ADD COLUMN agency TEXT;
