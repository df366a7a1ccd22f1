-- Tamper evidence for the audit log, and retention.
--
-- audit_log.prev_hash / hash: each record is chained to the one before it. hash is the SHA-256
-- (hex) of the previous record's hash and a canonical encoding of this record's fields
-- (`store::audit_chain`), computed when the record is appended, in the transaction that holds
-- the write lock, so two writers cannot fork the chain. Records written before this migration
-- keep both columns NULL: the migration computes their chain once and records its last hash as
-- an anchor, so they are covered too (`marac-intake audit verify` recomputes it).
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Where the chain starts again. kind: migration (the hash of the chain over the records written
-- before this migration, through_id the last of them) or purge (the retention purge deleted
-- every record up to through_id; hash is the hash of that last deleted record, the prev_hash of
-- the next one). Append-only, like the audit log.
CREATE TABLE audit_anchors (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    through_id  INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX audit_anchors_through ON audit_anchors (through_id);

-- The database itself refuses to alter the audit trail: no record is ever updated, and one is
-- deleted only at or below a purge anchor recorded first (the retention purge). Someone with
-- the file can drop these triggers; the hash chain is what shows that they did.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_delete_only_purged BEFORE DELETE ON audit_log
WHEN OLD.id > COALESCE((SELECT MAX(through_id) FROM audit_anchors WHERE kind = 'purge'), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit records are deleted only by the retention purge, up to its anchor');
END;
CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only');
END;

-- A message whose personal content was removed by the retention purge (its source as received,
-- what was read from it, its attachments' names, the victim it named): the row stays, with its
-- reference, hashes and outcome, so the same email arriving again is still known and never
-- answered twice.
ALTER TABLE messages ADD COLUMN purged_at TEXT;
