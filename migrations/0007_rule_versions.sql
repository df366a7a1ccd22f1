-- Rule sections changed by admins in the web console (/admin/rules), layered over the
-- configuration file: a section's newest row replaces the file's section whole, and a row whose
-- body is NULL puts the file's section back. Append-only: every version is kept, with who
-- changed it and when; the newest id is the rules' version, which the running service watches.
CREATE TABLE rule_versions (
    id          INTEGER PRIMARY KEY,
    section     TEXT NOT NULL,
    body        TEXT,
    changed_at  TEXT NOT NULL,
    changed_by  TEXT NOT NULL
);
CREATE INDEX rule_versions_section ON rule_versions (section, id);
