-- Each message as it was received (RFC 5322 bytes), so coordinators can download the original
-- attachments from the case page (every download audited). Special-category data: at rest here
-- only, never logged. Written in the decision's transaction; a message larger than
-- limits.max_message_bytes is not kept (its outcome says why it could not be read anyway).
CREATE TABLE message_sources (
    message_row  INTEGER PRIMARY KEY REFERENCES messages (id),
    raw          BLOB NOT NULL
);
