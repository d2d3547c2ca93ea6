-- Accounts no one can abuse (issue 19).
--
-- users: an account that can see people is `pending` until a second person
-- approves it (grant_requests); nobody sets a password for another: an
-- account starts with no password (password_hash = '') and a one-time
-- enrolment code, stored only as a SHA-256 of the code; the second factor's
-- secret is sealed under the user's own data key (data_keys, subject = the
-- user's id), bound to users.totp_secret_enc and the user's id.
ALTER TABLE users ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('pending', 'approved', 'rejected'));
ALTER TABLE users ADD COLUMN enrolment_code_hash TEXT;
ALTER TABLE users ADD COLUMN enrolment_expires_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_secret_enc BLOB;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- A grant waiting for (or given by) a second person: a new account that can
-- see people, a widening of such an account's role, cities or organisation,
-- or a reset of it. `role`, `organisation_id` and `city_ids` (comma
-- separated) are what the account will hold once approved; the approver is
-- a city supervisor of every one of `concerned_city_ids`, or an admin.
CREATE TABLE grant_requests (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'change', 'reset')),
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    city_ids TEXT NOT NULL,
    approver TEXT NOT NULL CHECK (approver IN ('city_supervisor', 'admin')),
    concerned_city_ids TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    -- NULL with a decision: the operator decided on the command line.
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
-- At most one pending request per account.
CREATE UNIQUE INDEX grant_requests_one_pending ON grant_requests (user_id) WHERE status = 'pending';
CREATE INDEX grant_requests_status ON grant_requests (status, approver);

-- Login attempts per key in a fixed window: a keyed hash (HMAC under a key
-- derived from the keyring) of a lower-cased username or of a client
-- address, never the text itself. Every attempt is counted here before its
-- password is checked, so attempts in flight count, on every API node.
CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE INDEX login_attempts_window_start ON login_attempts (window_start);
