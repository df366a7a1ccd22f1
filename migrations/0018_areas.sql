-- Areas (issue 14): one deployment, several MARACs. Every message, person and case belongs to
-- one area, by the id of its `[areas.ID]` section; the rows written before areas belong to the
-- one area of a file without such sections, `default` (`config::areas::DEFAULT_AREA`). Repeats
-- and links are looked for within an area; a person of another area with the same name and date
-- of birth is only flagged to the coordinators.

ALTER TABLE messages ADD COLUMN area TEXT NOT NULL DEFAULT 'default';
ALTER TABLE people ADD COLUMN area TEXT NOT NULL DEFAULT 'default';
ALTER TABLE cases ADD COLUMN area TEXT NOT NULL DEFAULT 'default';

-- The victim look-up: an area's people by date of birth (the look-up's key).
CREATE INDEX people_by_area_dob ON people (area, dob);
-- An area's queue and lists.
CREATE INDEX messages_by_area ON messages (area, id);
CREATE INDEX cases_by_area ON cases (area, id);
