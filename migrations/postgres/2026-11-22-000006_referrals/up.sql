-- A referral of a case to a provider organisation. The city is the case's
-- (copied for scoping, and moved with the case on a transfer); the reason,
-- the outcome note and the decline/cancel reason are free text, sealed with
-- the case's data key. Needs are a closed set, comma-separated.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('psychosocial', 'education', 'vocational_training')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'in_progress', 'completed', 'declined', 'cancelled')),
    reason_enc BYTEA NOT NULL,
    needs TEXT NOT NULL,
    due_by DATE,
    outcome TEXT CHECK (outcome IN ('completed_successfully', 'dropped_out', 'not_eligible', 'other')),
    outcome_note_enc BYTEA,
    decision_reason_enc BYTEA,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    declined_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX referrals_organisation ON referrals (organisation_id, state, created_at);
CREATE INDEX referrals_city ON referrals (city_id, state, created_at);
CREATE INDEX referrals_case_id ON referrals (case_id);
