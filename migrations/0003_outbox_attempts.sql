-- The outbox sender's state. A row is claimed by setting status 'sending' with a lease
-- (claimed_until); a crashed sender's claim expires and the row is taken again. A row that could
-- not be sent yet stays 'pending' with its next_attempt_at. Final states: sent, failed (the server
-- answered 5xx, or the row expired), refused (the recipient is not on the allowlist at send time).

ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- The per-recipient hourly cap counts recent sends by recipient.
CREATE INDEX outbox_recipient_sent ON outbox (lower(recipient), sent_at);

-- Every attempt, whatever came of it. detail is the server's answer or the transport error; it
-- stays in the database (it can quote the recipient) and is never logged.
CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL,          -- sent | deferred | failed | refused | expired | interrupted (a sender stopped mid-attempt)
    code        INTEGER,                -- the SMTP reply code, when the server answered
    detail      TEXT
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts (outbox_id);
