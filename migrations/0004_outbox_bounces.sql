-- Our own mail recognised when it comes back. reply_message_id is the Message-ID an outbox row
-- is sent with (a reply to a referrer, or a coordinators' notice), lower-cased and without angle
-- brackets, as `mime::normalise_message_id` writes the ids a message refers to; rows written
-- before this migration are filled from their raw message by the store when it applies it.
--
-- bounced_at is when a delivery failure report (a bounce) for the row was decided; status keeps
-- how far sending had got (normally sent: a sent row is never claimed again). A row still pending
-- is sent all the same (a reply cannot bounce before it is handed over: that bounce was forged). The bounce itself is a review item in `messages`.

ALTER TABLE outbox ADD COLUMN reply_message_id TEXT;
ALTER TABLE outbox ADD COLUMN bounced_at TEXT;

CREATE INDEX outbox_reply_message_id ON outbox (reply_message_id);
