-- The tamper-evident audit log (see src/audit and docs/operations.md).
--
-- Events are appended unchained (seq, prev_hash, hash NULL) inside the
-- transaction of the change they record; the sequencer later gives each
-- committed event its place in the hash chain, in queue_no order.
-- queue_no is the rowid (INTEGER PRIMARY KEY, read as BigInt on both
-- backends); AUTOINCREMENT keeps it from ever being reused. The event's own
-- id is therefore UNIQUE NOT NULL here rather than the primary key; both
-- backends treat it as the key.

CREATE TABLE audit_events (
    queue_no INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id TEXT NOT NULL UNIQUE,
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
    prev_hash BINARY CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
    hash BINARY CHECK (hash IS NULL OR length(hash) = 32)
);

CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at, id);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, occurred_at, id);
CREATE INDEX audit_events_entity_id ON audit_events (entity_id, occurred_at, id);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at, id);
-- What the sequencer reads: committed events not chained yet, in queue order.
CREATE INDEX audit_events_unchained ON audit_events (queue_no) WHERE seq IS NULL;

-- Append-only. The one update allowed is the sequencer filling the three
-- chain columns of an unchained event, all at once, changing nothing else.
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

CREATE TRIGGER audit_events_no_delete
BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
