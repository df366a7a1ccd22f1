-- A coordinator's corrections of what was read from a message (issue 16): one DASH answer
-- (`dash.N`) or one referral field (`victim.name`, ...) per row, beside the reading, which is
-- never changed (`messages.inspection` keeps what the reader found; `original` repeats it as
-- text for the page). Applied in id order over the message read again before it is decided
-- again. Special-category data, like the inspection: blanked with it by an erasure or a purge.
-- `label`: how the form printed the field's label, when the coordinator gave it.
CREATE TABLE corrections (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    target       TEXT NOT NULL,
    original     TEXT,
    corrected    TEXT NOT NULL,
    label        TEXT,
    corrected_by TEXT NOT NULL,
    corrected_at TEXT NOT NULL
);
CREATE INDEX corrections_by_message ON corrections (message_row, id);
