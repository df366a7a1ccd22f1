-- As SQLite's migration 20 (one level up, which says why): an area's new-case messages, for
-- its queue.
CREATE INDEX messages_by_area_kind ON messages (area, case_kind);
