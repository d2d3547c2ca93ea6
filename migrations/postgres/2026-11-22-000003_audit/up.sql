-- The tamper-evident audit log (see src/audit and docs/operations.md).
--
-- Events are appended unchained (seq, prev_hash, hash NULL) inside the
-- transaction of the change they record; the sequencer later gives each
-- committed event its place in the hash chain, in queue_no order.
-- queue_no is an identity: it orders insertions but is NOT commit order, and
-- rolled-back inserts leave gaps in it. Neither matters: the chain orders by seq.

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    queue_no BIGINT GENERATED ALWAYS AS IDENTITY NOT NULL UNIQUE,
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT,
    actor_role TEXT,
    action TEXT NOT NULL,
    entity TEXT,
    entity_id TEXT,
    city_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    request_id TEXT,
    detail TEXT,
    seq BIGINT UNIQUE CHECK (seq IS NULL OR seq > 0),
    prev_hash BYTEA CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
    hash BYTEA CHECK (hash IS NULL OR length(hash) = 32)
);

CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at, id);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, occurred_at, id);
CREATE INDEX audit_events_entity_id ON audit_events (entity_id, occurred_at, id);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at, id);
-- What the sequencer reads: committed events not chained yet, in queue order.
CREATE INDEX audit_events_unchained ON audit_events (queue_no) WHERE seq IS NULL;

-- Append-only. The one update allowed is the sequencer filling the three
-- chain columns of an unchained event, all at once, changing nothing else.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
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

CREATE TRIGGER audit_events_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
