-- One stored form for every instant: UTC, milliseconds, `Z`, 24 characters
-- (`2025-01-14T09:02:03.000Z`, `clock::stamp`), so that text order is time order and SQL may
-- ORDER BY and compare timestamps directly. Before this migration `arrived_at` (and a new
-- case's `opened_at`) kept the sender's own offset (`2025-01-14T10:02:03+01:00`), other columns
-- had RFC 3339 with `+00:00` and nanoseconds, an imported case's `opened_at` a bare date, and
-- the outbox, sessions and sign-in already this form.
--
-- SQLite's strftime reads each of those forms (offsets included) and writes the instant in UTC;
-- a bare date becomes its midnight, UTC. Fractions beyond milliseconds are rounded to the
-- millisecond. A value it cannot read is left as it was (COALESCE), never lost.
--
-- Not rewritten: the append-only tables. `audit_log.at` is covered by each record's hash
-- (migration 14) and the database refuses to update a record; `audit_anchors` and
-- `rule_versions` are append-only too. Their rows written before this migration keep their
-- text (already this form for everything the web console and the command line wrote), and
-- `clock::parse` still reads an RFC 3339 offset form there. New rows use this form.
-- Dates without a time (`meeting_date`, `referred_on`, `dob`) stay `YYYY-MM-DD`.


UPDATE people SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at) WHERE created_at IS NOT NULL;
UPDATE people SET erased_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', erased_at), erased_at) WHERE erased_at IS NOT NULL;

UPDATE cases SET opened_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', opened_at), opened_at) WHERE opened_at IS NOT NULL;

UPDATE messages SET arrived_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', arrived_at), arrived_at) WHERE arrived_at IS NOT NULL;
UPDATE messages SET processed_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', processed_at), processed_at) WHERE processed_at IS NOT NULL;
UPDATE messages SET purged_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', purged_at), purged_at) WHERE purged_at IS NOT NULL;

UPDATE decisions SET decided_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', decided_at), decided_at) WHERE decided_at IS NOT NULL;

UPDATE outbox SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at) WHERE created_at IS NOT NULL;
UPDATE outbox SET sent_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', sent_at), sent_at) WHERE sent_at IS NOT NULL;
UPDATE outbox SET next_attempt_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', next_attempt_at), next_attempt_at) WHERE next_attempt_at IS NOT NULL;
UPDATE outbox SET claimed_until = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', claimed_until), claimed_until) WHERE claimed_until IS NOT NULL;
UPDATE outbox SET bounced_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', bounced_at), bounced_at) WHERE bounced_at IS NOT NULL;

UPDATE outbox_attempts SET at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', at), at) WHERE at IS NOT NULL;

UPDATE users SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at) WHERE created_at IS NOT NULL;

UPDATE sessions SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at) WHERE created_at IS NOT NULL;
UPDATE sessions SET last_seen_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', last_seen_at), last_seen_at) WHERE last_seen_at IS NOT NULL;

UPDATE login_attempts SET at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', at), at) WHERE at IS NOT NULL;

UPDATE totp_recovery_codes SET used_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', used_at), used_at) WHERE used_at IS NOT NULL;

UPDATE totp_enrolments SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at) WHERE created_at IS NOT NULL;

UPDATE restricted_cases SET restricted_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', restricted_at), restricted_at) WHERE restricted_at IS NOT NULL;

UPDATE break_glass SET granted_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', granted_at), granted_at) WHERE granted_at IS NOT NULL;
UPDATE break_glass SET expires_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', expires_at), expires_at) WHERE expires_at IS NOT NULL;
UPDATE break_glass SET seen_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', seen_at), seen_at) WHERE seen_at IS NOT NULL;

UPDATE schema_migrations SET applied_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', applied_at), applied_at) WHERE applied_at IS NOT NULL;
