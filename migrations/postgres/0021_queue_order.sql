-- As SQLite's migration 21 (one level up, which says why): the queue's order keys from a
-- message's criteria, beside its other risk signals.
ALTER TABLE message_signals ADD COLUMN is_repeat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_signals ADD COLUMN is_escalation INTEGER NOT NULL DEFAULT 0;
UPDATE message_signals SET is_repeat = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'repeat');
UPDATE message_signals SET is_escalation = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'potential_escalation');
CREATE INDEX messages_by_area_outcome ON messages (area, outcome);
