-- Back to the SHA-256 chain. Events re-chained or sealed since the up
-- migration keep MACs in `hash`, which the older code reports as broken:
-- a database that has served this version cannot really go back.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
            RAISE EXCEPTION 'audit_events is append-only: only the sequencer may fill the chain columns'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
        AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
        AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
        AND (NEW.id, NEW.queue_no, NEW.occurred_at, NEW.actor_id, NEW.actor_role,
             NEW.action, NEW.entity, NEW.entity_id, NEW.city_id, NEW.outcome,
             NEW.request_id, NEW.detail)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.queue_no, OLD.occurred_at, OLD.actor_id, OLD.actor_role,
             OLD.action, OLD.entity, OLD.entity_id, OLD.city_id, OLD.outcome,
             OLD.request_id, OLD.detail)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
DROP TABLE audit_rechain;
DROP FUNCTION audit_rechain_once();
DROP TABLE audit_subjects;
DROP FUNCTION audit_subjects_append_only();
ALTER TABLE audit_events DROP COLUMN chain_key_id, DROP COLUMN mac, DROP COLUMN key_id;
