-- The coordinators' web queue: accounts, sessions and the audit log.
--
-- users: password_hash is an argon2id PHC string; a disabled user cannot sign in and their
-- sessions stop working at once. role is coordinator | admin.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);

-- token_hash is the sha256 (hex) of the 256-bit random token in the browser's cookie: the token
-- itself is never stored. Timestamps in the outbox's fixed UTC format, so they compare as text.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    client        TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Every view of a case and every change, and every sign-in (also the failed ones, which the login
-- throttle counts). Append-only: the application never updates or deletes a row. actor is a user
-- name (or the name tried, for a failed sign-in; "cli" for the command line); object is a
-- reference (case, message, user), never personal data.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    object  TEXT,
    client  TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_actor ON audit_log (action, actor, at);
CREATE INDEX audit_log_client ON audit_log (action, client, at);
