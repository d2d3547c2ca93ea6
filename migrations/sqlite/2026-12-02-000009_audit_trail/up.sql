-- An audit trail that needs a key to forge, and that names everyone an
-- answer showed (src/audit, docs/operations.md "Audit log").
--
-- Each event is sealed as it is appended: `key_id` names an audit key of
-- the keyring, `mac` is HMAC-SHA256 over the event and its subjects under
-- it. The sequencer then links it: `hash` is now an HMAC too, under the
-- key `chain_key_id` names (filled with seq, prev_hash and hash).
ALTER TABLE audit_events ADD COLUMN key_id TEXT;
ALTER TABLE audit_events ADD COLUMN mac BINARY CHECK (mac IS NULL OR length(mac) = 32);
ALTER TABLE audit_events ADD COLUMN chain_key_id TEXT;

-- Whom an event is about besides its entity: the people (case ids) an
-- answer showed, the referrals it ended, and the blind indexes of the terms
-- a search looked for. Covered by the event's MAC. `occurred_at` is the
-- event's, copied so that "every event about this person, newest first" is
-- one walk of the primary key.
CREATE TABLE audit_subjects (
    subject_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    event_id TEXT NOT NULL REFERENCES audit_events (id),
    kind TEXT NOT NULL CHECK (kind IN ('case', 'referral', 'national_id', 'phone', 'name')),
    PRIMARY KEY (subject_id, occurred_at, event_id, kind)
) WITHOUT ROWID;
CREATE INDEX audit_subjects_event ON audit_subjects (event_id);

CREATE TRIGGER audit_subjects_no_update
BEFORE UPDATE ON audit_subjects
BEGIN
    SELECT RAISE(ABORT, 'audit_subjects is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_subjects_no_delete
BEFORE DELETE ON audit_subjects
BEGIN
    SELECT RAISE(ABORT, 'audit_subjects is append-only: DELETE refused');
END;

-- The events written before the audit key existed are sealed and chained
-- again once, by the server's first start on this version (audit::rechain),
-- which records it with an `audit.rechain` event and sets done_at. A
-- database with no events yet has nothing to re-chain.
CREATE TABLE audit_rechain (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    done_at TIMESTAMP
);
INSERT INTO audit_rechain (id, done_at)
SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM audit_events) THEN NULL
               ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END;

CREATE TRIGGER audit_rechain_no_insert
BEFORE INSERT ON audit_rechain
BEGIN
    SELECT RAISE(ABORT, 'audit_rechain runs once: INSERT refused');
END;

CREATE TRIGGER audit_rechain_once
BEFORE UPDATE ON audit_rechain
WHEN NOT (OLD.done_at IS NULL AND NEW.done_at IS NOT NULL AND NEW.id IS OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_rechain runs once: UPDATE refused');
END;

CREATE TRIGGER audit_rechain_no_delete
BEFORE DELETE ON audit_rechain
BEGIN
    SELECT RAISE(ABORT, 'audit_rechain runs once: DELETE refused');
END;

-- Append-only, as before, with two updates allowed:
-- 1. the sequencer fills the four chain columns of an unchained event, all
--    at once, changing nothing else;
-- 2. while the one re-chain is pending, an event from before the audit key
--    gets its key_id and mac, and (if it was chained) new prev_hash, hash
--    and chain_key_id at the same seq.
DROP TRIGGER audit_events_insert_unchained;
DROP TRIGGER audit_events_no_update;

CREATE TRIGGER audit_events_insert_unchained
BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
    OR NEW.chain_key_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: only the sequencer may fill the chain columns');
END;

CREATE TRIGGER audit_events_no_update
BEFORE UPDATE ON audit_events
WHEN NOT (
    NEW.queue_no IS OLD.queue_no AND NEW.id IS OLD.id
    AND NEW.occurred_at IS OLD.occurred_at AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_role IS OLD.actor_role AND NEW.action IS OLD.action
    AND NEW.entity IS OLD.entity AND NEW.entity_id IS OLD.entity_id
    AND NEW.city_id IS OLD.city_id AND NEW.outcome IS OLD.outcome
    AND NEW.request_id IS OLD.request_id AND NEW.detail IS OLD.detail
    AND (
        (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
         AND OLD.chain_key_id IS NULL
         AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
         AND NEW.chain_key_id IS NOT NULL
         AND NEW.key_id IS OLD.key_id AND NEW.mac IS OLD.mac)
        OR
        (EXISTS (SELECT 1 FROM audit_rechain WHERE done_at IS NULL)
         AND OLD.key_id IS NULL AND OLD.mac IS NULL
         AND NEW.key_id IS NOT NULL AND NEW.mac IS NOT NULL
         AND NEW.seq IS OLD.seq
         AND ((NEW.seq IS NULL AND NEW.prev_hash IS NULL AND NEW.hash IS NULL
               AND NEW.chain_key_id IS NULL)
              OR (NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
                  AND NEW.chain_key_id IS NOT NULL)))
    )
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;
