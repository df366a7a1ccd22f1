-- Data-subject rights and restricted cases (issue 12, items 8 and 9).
--
-- A person erased on request keeps their row (their reference, so that case counts, referrals
-- and the audit log still add up) with the name and date of birth blanked; erased_at says when.
ALTER TABLE people ADD COLUMN erased_at TEXT;

-- A case only the named users may see (the victim is a member of staff, say). Everyone else does
-- not find it in the queue, on an agenda or by its reference, unless they break the glass.
CREATE TABLE restricted_cases (
    case_id        INTEGER PRIMARY KEY REFERENCES cases (id),
    restricted_by  TEXT NOT NULL,
    restricted_at  TEXT NOT NULL
);

-- The users a restricted case is open to.
CREATE TABLE restricted_case_users (
    case_id  INTEGER NOT NULL REFERENCES restricted_cases (case_id),
    user_id  INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (case_id, user_id)
);

-- Break-glass access to a restricted case: a user not named gave a reason and may see the case
-- until expires_at (timestamps in the outbox's fixed UTC format, so they compare as text). The
-- admins see each one on their dashboard until one of them marks it seen.
CREATE TABLE break_glass (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    reason      TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    seen_by     TEXT,
    seen_at     TEXT
);
CREATE INDEX break_glass_user_case ON break_glass (user_id, case_id, expires_at);
CREATE INDEX break_glass_unseen ON break_glass (seen_at, id);
