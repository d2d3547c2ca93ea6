-- An audit trail that needs a key to forge, and that names everyone an
-- answer showed (src/audit, docs/operations.md "Audit log").
--
-- Each event is sealed as it is appended: `key_id` names an audit key of
-- the keyring, `mac` is HMAC-SHA256 over the event and its subjects under
-- it. The sequencer then links it: `hash` is now an HMAC too, under the
-- key `chain_key_id` names (filled with seq, prev_hash and hash).
ALTER TABLE audit_events
    ADD COLUMN key_id TEXT,
    ADD COLUMN mac BYTEA CHECK (mac IS NULL OR length(mac) = 32),
    ADD COLUMN chain_key_id TEXT;

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
);
CREATE INDEX audit_subjects_event ON audit_subjects (event_id);

CREATE FUNCTION audit_subjects_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_subjects is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_subjects_append_only
    BEFORE UPDATE OR DELETE ON audit_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION audit_subjects_append_only();
CREATE TRIGGER audit_subjects_no_truncate
    BEFORE TRUNCATE ON audit_subjects
    FOR EACH STATEMENT EXECUTE FUNCTION audit_subjects_append_only();

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
               ELSE (now() AT TIME ZONE 'UTC') END;

CREATE FUNCTION audit_rechain_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.done_at IS NULL AND NEW.done_at IS NOT NULL
        AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_rechain runs once: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER audit_rechain_once
    BEFORE INSERT OR UPDATE OR DELETE ON audit_rechain
    FOR EACH ROW EXECUTE FUNCTION audit_rechain_once();
CREATE TRIGGER audit_rechain_no_truncate
    BEFORE TRUNCATE ON audit_rechain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rechain_once();

-- Append-only, as before, with two updates allowed:
-- 1. the sequencer fills the four chain columns of an unchained event, all
--    at once, changing nothing else;
-- 2. while the one re-chain is pending, an event from before the audit key
--    gets its key_id and mac, and (if it was chained) new prev_hash, hash
--    and chain_key_id at the same seq.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
            OR NEW.chain_key_id IS NOT NULL THEN
            RAISE EXCEPTION 'audit_events is append-only: only the sequencer may fill the chain columns'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
        AND (NEW.id, NEW.queue_no, NEW.occurred_at, NEW.actor_id, NEW.actor_role,
             NEW.action, NEW.entity, NEW.entity_id, NEW.city_id, NEW.outcome,
             NEW.request_id, NEW.detail)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.queue_no, OLD.occurred_at, OLD.actor_id, OLD.actor_role,
             OLD.action, OLD.entity, OLD.entity_id, OLD.city_id, OLD.outcome,
             OLD.request_id, OLD.detail)
    THEN
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
            AND OLD.chain_key_id IS NULL
            AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
            AND NEW.chain_key_id IS NOT NULL
            AND (NEW.key_id, NEW.mac) IS NOT DISTINCT FROM (OLD.key_id, OLD.mac)
        THEN
            RETURN NEW;
        END IF;
        IF EXISTS (SELECT 1 FROM audit_rechain WHERE done_at IS NULL)
            AND OLD.key_id IS NULL AND OLD.mac IS NULL
            AND NEW.key_id IS NOT NULL AND NEW.mac IS NOT NULL
            AND NEW.seq IS NOT DISTINCT FROM OLD.seq
            AND ((NEW.seq IS NULL AND NEW.prev_hash IS NULL AND NEW.hash IS NULL
                  AND NEW.chain_key_id IS NULL)
                 OR (NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
                  AND NEW.chain_key_id IS NOT NULL))
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
