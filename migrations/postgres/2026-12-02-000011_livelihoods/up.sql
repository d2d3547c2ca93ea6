-- Livelihoods (docs/referrals.md): more kinds of provider and referral,
-- more outcomes, and the progress updates a provider posts while a
-- referral is in progress.

ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check CHECK (kind IN (
    'psychosocial', 'education', 'vocational_training', 'employment', 'business_support',
    'civil_documentation', 'health', 'legal_aid', 'community'));

ALTER TABLE referrals DROP CONSTRAINT referrals_kind_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_kind_check CHECK (kind IN (
    'psychosocial', 'education', 'vocational_training', 'employment', 'business_support',
    'civil_documentation', 'health', 'legal_aid', 'community'));

ALTER TABLE referrals DROP CONSTRAINT referrals_outcome_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_outcome_check CHECK (outcome IN (
    'completed_successfully', 'dropped_out', 'not_eligible', 'other', 'employed', 'enrolled',
    'certified', 'documents_issued'));

-- A provider's note on how a referral in progress is going. The note is
-- sealed with the person's data key, bound to the update's id and the
-- case's city (moved with the case on a transfer, deleted on erasure).
CREATE TABLE referral_updates (
    id TEXT PRIMARY KEY NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    note_enc BYTEA NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX referral_updates_referral ON referral_updates (referral_id, created_at);
CREATE INDEX referral_updates_case ON referral_updates (case_id);
