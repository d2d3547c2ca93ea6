-- Livelihoods (docs/referrals.md): more kinds of provider and referral,
-- more outcomes, and the progress updates a provider posts while a
-- referral is in progress.
--
-- SQLite cannot change a CHECK constraint in place: organisations and
-- referrals are rebuilt, the documented way (sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): foreign keys off outside a
-- transaction (metadata.toml: run_in_transaction = false), then one
-- transaction that copies, drops and renames, then foreign keys on again.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE organisations_new (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'psychosocial', 'education', 'vocational_training', 'employment', 'business_support',
        'civil_documentation', 'health', 'legal_aid', 'community')),
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
        'psychosocial', 'education', 'vocational_training', 'employment', 'business_support',
        'civil_documentation', 'health', 'legal_aid', 'community')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'in_progress', 'completed', 'declined', 'cancelled')),
    reason_enc BLOB NOT NULL,
    needs TEXT NOT NULL,
    due_by DATE,
    outcome TEXT CHECK (outcome IN (
        'completed_successfully', 'dropped_out', 'not_eligible', 'other', 'employed',
        'enrolled', 'certified', 'documents_issued')),
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

-- A provider's note on how a referral in progress is going. The note is
-- sealed with the person's data key, bound to the update's id and the
-- case's city (moved with the case on a transfer, deleted on erasure).
CREATE TABLE referral_updates (
    id TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    note_enc BLOB NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX referral_updates_referral ON referral_updates (referral_id, created_at);
CREATE INDEX referral_updates_case ON referral_updates (case_id);

COMMIT;
PRAGMA foreign_keys = ON;
