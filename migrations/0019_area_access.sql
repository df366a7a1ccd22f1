-- Access by area (issue 14): which areas each user works in, and which areas a message whose
-- area could not be told may be for.
--
-- A coordinator (or an area's admin) sees only the rows of their areas; an admin (the
-- deployment's) sees every area. The users made before areas work in the one area there was,
-- `default`.
CREATE TABLE user_areas (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    area     TEXT NOT NULL,
    PRIMARY KEY (user_id, area)
);
INSERT INTO user_areas (user_id, area) SELECT id, 'default' FROM users WHERE role <> 'admin';

-- A message whose area could not be told (`messages.area` empty) is shown to the users of the
-- areas it may be for (those of the mailbox it arrived in), who place it.
CREATE TABLE message_candidates (
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    area         TEXT NOT NULL,
    PRIMARY KEY (message_row, area)
);
CREATE INDEX message_candidates_by_area ON message_candidates (area, message_row);
