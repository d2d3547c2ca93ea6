-- Closing a case needs a second pair of eyes (docs/closure.md): a social
-- worker asks, a city supervisor of the case's city who did not ask
-- approves (the case closes) or returns it. A supervisor's direct close is
-- kept as a self-approved request. The reason is a closed set (plaintext,
-- for counting); the note and the reason for returning are free text,
-- sealed with the person's data key, bound to the request's id and the
-- case's city (re-sealed on a transfer, deleted on erasure).
CREATE TABLE closure_requests (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    reason TEXT NOT NULL CHECK (reason IN ('services_completed', 'moved_abroad', 'deceased',
        'lost_contact', 'declined_services', 'other')),
    note_enc BLOB,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'returned', 'self_approved')),
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    return_reason_enc BLOB,
    version BIGINT NOT NULL,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX closure_requests_case ON closure_requests (case_id, requested_at);
CREATE INDEX closure_requests_city ON closure_requests (city_id, status);
-- At most one request waiting a case.
CREATE UNIQUE INDEX closure_requests_one_pending ON closure_requests (case_id)
    WHERE status = 'pending';
