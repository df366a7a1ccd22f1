-- Agendas to the agencies' designated MARAC officers (issue 16, item 6). An agenda goes through
-- the outbox like a reply, but belongs to a meeting, not to a message: outbox.message_row may
-- now be NULL (for kind 'agenda' only). SQLite cannot drop a NOT NULL, so the table is made
-- again (the store runs this migration with foreign keys off, as SQLite's documented procedure
-- for changing a table asks, and checks them before it commits). `raw` keeps what it holds:
-- a sealed blob (migration 13).
CREATE TABLE outbox_new (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER REFERENCES messages (id),
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    raw          TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    next_attempt_at TEXT,
    claimed_until TEXT,
    reply_message_id TEXT,
    bounced_at   TEXT,
    CHECK (message_row IS NOT NULL OR kind = 'agenda')
);
INSERT INTO outbox_new (id, message_row, kind, recipient, subject, raw, status, attempts, last_error, created_at, sent_at, next_attempt_at, claimed_until, reply_message_id, bounced_at)
    SELECT id, message_row, kind, recipient, subject, raw, status, attempts, last_error, created_at, sent_at, next_attempt_at, claimed_until, reply_message_id, bounced_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_status ON outbox (status);
CREATE UNIQUE INDEX outbox_one_per_message ON outbox (message_row, kind);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient_sent ON outbox (lower(recipient), sent_at);
CREATE INDEX outbox_reply_message_id ON outbox (reply_message_id);

-- One agenda sent (queued) to one officer: which area's meeting, which agency and address, how
-- many cases it listed, who asked for it ('schedule' when it went by itself, else the
-- coordinator's user name) and when. Its delivery is its outbox row's.
CREATE TABLE agenda_sends (
    id            INTEGER PRIMARY KEY,
    area          TEXT NOT NULL,
    meeting_date  TEXT NOT NULL,
    agency        TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    cases         INTEGER NOT NULL,
    outbox_id     INTEGER NOT NULL REFERENCES outbox (id),
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL
);
CREATE INDEX agenda_sends_meeting ON agenda_sends (area, meeting_date, lower(recipient));
CREATE INDEX agenda_sends_outbox ON agenda_sends (outbox_id);
