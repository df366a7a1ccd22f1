-- The case history. Portable SQL: ISO-8601 dates as TEXT, JSON as TEXT, ids as integers the
-- database assigns. SQLite today; the PostgreSQL set differs only in the id columns.

CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    dob         TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX people_dob ON people (dob);

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    ref           TEXT NOT NULL UNIQUE,
    person_id     INTEGER NOT NULL REFERENCES people (id),
    status        TEXT NOT NULL,            -- pending | heard | closed
    meeting_date  TEXT,
    opened_at     TEXT NOT NULL,
    source        TEXT NOT NULL             -- email | import
);
CREATE INDEX cases_person ON cases (person_id);
CREATE INDEX cases_status_meeting ON cases (status, meeting_date);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    ref           TEXT NOT NULL UNIQUE,     -- our reference for the referrer: IN-2025-00001
    message_id    TEXT,
    sha256        TEXT NOT NULL,
    arrived_at    TEXT NOT NULL,
    file          TEXT,
    outcome       TEXT NOT NULL,
    criteria      TEXT NOT NULL,            -- JSON array
    reasons       TEXT NOT NULL,            -- JSON array
    dash_yes      INTEGER,
    dash_no       INTEGER,
    dash_unknown  INTEGER,
    case_kind     TEXT NOT NULL,            -- new | linked | none
    case_id       INTEGER REFERENCES cases (id),
    person_id     INTEGER REFERENCES people (id),
    match_reason  TEXT,
    reply_kind    TEXT NOT NULL,
    reply_to      TEXT NOT NULL,            -- JSON array
    inspection    TEXT NOT NULL,            -- JSON of what was read (special-category data: at rest here only)
    processed_at  TEXT NOT NULL
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_sha256 ON messages (sha256);
CREATE INDEX messages_outcome ON messages (outcome);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    sha256       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT,
    size         INTEGER NOT NULL
);
CREATE INDEX attachments_sha256 ON attachments (sha256);

CREATE TABLE referrals (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    person_id     INTEGER NOT NULL REFERENCES people (id),
    message_row   INTEGER REFERENCES messages (id),
    referred_on   TEXT NOT NULL,
    source        TEXT NOT NULL             -- email | import
);
CREATE INDEX referrals_person ON referrals (person_id, referred_on);

CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    outcome      TEXT NOT NULL,
    reasons      TEXT NOT NULL,
    decided_by   TEXT NOT NULL,             -- triage | a coordinator's user name
    decided_at   TEXT NOT NULL
);
CREATE INDEX decisions_message ON decisions (message_row);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    raw          TEXT NOT NULL,             -- the RFC 5322 message to send
    status       TEXT NOT NULL,             -- pending | sent | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT
);
CREATE INDEX outbox_status ON outbox (status);
CREATE UNIQUE INDEX outbox_one_per_message ON outbox (message_row, kind);

CREATE TABLE sequences (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
