-- A coordinator's merge of two victim records, kept so that it can be undone ("split back"):
-- which person kept the rows, which was emptied, and each case, message and referral that
-- moved. No foreign keys: an erasure (`store::subjects`) may remove the people and rows later,
-- and an undo then moves back only what is still there.
CREATE TABLE person_merges (
    id          INTEGER PRIMARY KEY,
    kept_id     INTEGER NOT NULL,
    emptied_id  INTEGER NOT NULL,
    merged_at   TEXT NOT NULL,
    merged_by   TEXT NOT NULL,
    undone_at   TEXT
);
CREATE INDEX person_merges_kept ON person_merges (kept_id, id);

CREATE TABLE person_merge_rows (
    merge_id    INTEGER NOT NULL,
    kind        TEXT NOT NULL,            -- cases | messages | referrals
    row_id      INTEGER NOT NULL
);
CREATE INDEX person_merge_rows_merge ON person_merge_rows (merge_id);
