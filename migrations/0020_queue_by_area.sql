-- The queue of one area (issue 14, scale): its pending cases are found from the messages that
-- opened them (`case_kind = 'new'`) in the user's areas. With only `messages_by_area` and
-- `messages_case_kind`, PostgreSQL intersected the area's messages with every new-case message
-- of the deployment (400,000 in the scale bench's history of 1,000,000); this index reads the
-- area's new-case messages alone. See BENCHMARKS.md, "Scale on PostgreSQL (issue 14)".
CREATE INDEX messages_by_area_kind ON messages (area, case_kind);
