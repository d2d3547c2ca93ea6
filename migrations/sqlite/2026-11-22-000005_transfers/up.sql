-- A request to move a case (and, when the whole household moves, its
-- household) to another city. The reasons are free text, sealed with the
-- case's data key.
CREATE TABLE transfers (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    from_city_id TEXT NOT NULL REFERENCES cities (id),
    to_city_id TEXT NOT NULL REFERENCES cities (id),
    with_household BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'cancelled')),
    reason_enc BLOB NOT NULL,
    decision_reason_enc BLOB,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX transfers_to_city ON transfers (to_city_id, status, requested_at);
CREATE INDEX transfers_from_city ON transfers (from_city_id, status, requested_at);
CREATE INDEX transfers_case_id ON transfers (case_id);
