-- What the web queue orders pending cases by, read once from the inspection when the message is
-- written (so the queue never parses stored inspections): the named high-risk DASH answers marked
-- Yes (JSON array: strangulation, threats to kill, weapons, pregnancy), the number of children in
-- the household, and the referring agency as the form names it. A table of its own: columns
-- added to `messages` would sit after its large `inspection` and make every scan read it.
-- Messages written before this migration are filled from their inspection by the store when it
-- applies it.

CREATE TABLE message_signals (
    message_row  INTEGER PRIMARY KEY REFERENCES messages (id),
    high_risk    TEXT NOT NULL,
    high_risk_count INTEGER NOT NULL,      -- entries in high_risk, for ORDER BY
    children     INTEGER NOT NULL,
    agency       TEXT
);

-- The case page and the agenda find a case's and a person's messages.
CREATE INDEX messages_case ON messages (case_id);
CREATE INDEX messages_person ON messages (person_id);
CREATE INDEX messages_case_kind ON messages (case_kind);
