-- Sign-in that cannot be raced, and the second factor (TOTP, RFC 6238) for every account.
--
-- login_attempts: every sign-in attempt (and every check of a current password), recorded
-- before the password is checked, in the transaction that decides whether it may be checked at
-- all; the throttle counts these rows, not the audit log. outcome is checking (while the
-- password is checked: it counts as a failure, so parallel guesses cannot outrun the count),
-- ok, failed, or unchecked (refused because the server was busy: no password was checked).
-- account is the name tried (any text up to 64 characters), client the address.
CREATE TABLE login_attempts (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    account  TEXT NOT NULL,
    client   TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX login_attempts_account ON login_attempts (account, client, at);
CREATE INDEX login_attempts_client ON login_attempts (client, at);

-- totp_secret: the base32 shared secret, NULL until the user enrols (at their first sign-in, or
-- with `user add --totp-secret-file`); never logged or audited. totp_last_step: the 30-second
-- step of the last code accepted, so a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- The ten single-use recovery codes made at enrolment, as sha256 (hex) only.
CREATE TABLE totp_recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes (user_id, code_hash);

-- An enrolment under way: the password was right, the secret shown, its first code awaited.
-- token_hash is the sha256 of the random token in the browser's enrolment cookie.
CREATE TABLE totp_enrolments (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
