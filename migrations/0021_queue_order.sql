-- The queue's two order keys that come from a message's criteria (a repeat first; potential
-- escalation before the rest), kept beside its other risk signals, so that ordering an area's
-- pending cases reads one row per message instead of probing `message_criteria` twice per row
-- (about half the page's work in an area with 5,000 pending cases: BENCHMARKS.md, issue 14).
-- Written with the message (`Tx::write`), from the same criteria as `message_criteria`.
ALTER TABLE message_signals ADD COLUMN is_repeat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_signals ADD COLUMN is_escalation INTEGER NOT NULL DEFAULT 0;
UPDATE message_signals SET is_repeat = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'repeat');
UPDATE message_signals SET is_escalation = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'potential_escalation');

-- The page's other two lists, an area's review items and quarantined messages, read from the
-- area's messages of that outcome instead of every such message of the deployment.
CREATE INDEX messages_by_area_outcome ON messages (area, outcome);
