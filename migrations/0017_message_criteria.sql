-- The criteria a message was accepted on, one row each, so that queries ask for one criterion
-- by equality (EXISTS / JOIN, indexed) instead of matching text inside the JSON list in
-- `messages.criteria`. That column stays: it keeps the criteria in the order the decision gave
-- them, for `triage --json` and `history --json`. Both are written in the message's own
-- transaction (`Tx::write`); the spellings are `Criterion::as_str`.

CREATE TABLE message_criteria (
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    criterion    TEXT NOT NULL,
    PRIMARY KEY (message_row, criterion)
);

-- "Every message with this criterion" (the queue's filter).
CREATE INDEX message_criteria_by_criterion ON message_criteria (criterion, message_row);

-- The messages written before this migration, from their JSON list.
INSERT INTO message_criteria (message_row, criterion)
SELECT DISTINCT m.id, j.value FROM messages m, json_each(m.criteria) j
WHERE json_valid(m.criteria) AND j.type = 'text';
