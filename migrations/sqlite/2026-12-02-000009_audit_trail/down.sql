-- Back to the SHA-256 chain. Events re-chained or sealed since the up
-- migration keep MACs in `hash`, which the older code reports as broken:
-- a database that has served this version cannot really go back.
DROP TRIGGER audit_events_insert_unchained;
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_insert_unchained
BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: only the sequencer may fill the chain columns');
END;
CREATE TRIGGER audit_events_no_update
BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
    AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
    AND NEW.queue_no IS OLD.queue_no AND NEW.id IS OLD.id
    AND NEW.occurred_at IS OLD.occurred_at AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_role IS OLD.actor_role AND NEW.action IS OLD.action
    AND NEW.entity IS OLD.entity AND NEW.entity_id IS OLD.entity_id
    AND NEW.city_id IS OLD.city_id AND NEW.outcome IS OLD.outcome
    AND NEW.request_id IS OLD.request_id AND NEW.detail IS OLD.detail
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;
DROP TABLE audit_rechain;
DROP TABLE audit_subjects;
ALTER TABLE audit_events DROP COLUMN chain_key_id;
ALTER TABLE audit_events DROP COLUMN mac;
ALTER TABLE audit_events DROP COLUMN key_id;
