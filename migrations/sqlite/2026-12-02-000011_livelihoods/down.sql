-- Run outside a transaction (metadata.toml): see up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP INDEX referral_updates_case;
DROP INDEX referral_updates_referral;
DROP TABLE referral_updates;

CREATE TABLE organisations_new (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'psychosocial', 'education', 'vocational_training')),
    city_id TEXT NOT NULL REFERENCES cities (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO organisations_new (id, name, kind, city_id, active, created_at, updated_at)
    SELECT id, name, kind, city_id, active, created_at, updated_at FROM organisations;
DROP TABLE organisations;
ALTER TABLE organisations_new RENAME TO organisations;
CREATE INDEX organisations_city_id ON organisations (city_id, kind);

CREATE TABLE referrals_new (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN (
        'psychosocial', 'education', 'vocational_training')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'in_progress', 'completed', 'declined', 'cancelled')),
    reason_enc BLOB NOT NULL,
    needs TEXT NOT NULL,
    due_by DATE,
    outcome TEXT CHECK (outcome IN (
        'completed_successfully', 'dropped_out', 'not_eligible', 'other')),
    outcome_note_enc BLOB,
    decision_reason_enc BLOB,
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
INSERT INTO referrals_new (id, case_id, city_id, organisation_id, kind, state, reason_enc, needs,
        due_by, outcome, outcome_note_enc, decision_reason_enc, created_by, created_at,
        accepted_at, started_at, completed_at, declined_at, cancelled_at, updated_by, updated_at,
        version)
    SELECT id, case_id, city_id, organisation_id, kind, state, reason_enc, needs,
        due_by, outcome, outcome_note_enc, decision_reason_enc, created_by, created_at,
        accepted_at, started_at, completed_at, declined_at, cancelled_at, updated_by, updated_at,
        version FROM referrals;
DROP TABLE referrals;
ALTER TABLE referrals_new RENAME TO referrals;
CREATE INDEX referrals_organisation ON referrals (organisation_id, state, created_at);
CREATE INDEX referrals_city ON referrals (city_id, state, created_at);
CREATE INDEX referrals_case_id ON referrals (case_id);

COMMIT;
PRAGMA foreign_keys = ON;
