DROP INDEX referral_updates_case;
DROP INDEX referral_updates_referral;
DROP TABLE referral_updates;

ALTER TABLE referrals DROP CONSTRAINT referrals_outcome_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_outcome_check CHECK (outcome IN (
    'completed_successfully', 'dropped_out', 'not_eligible', 'other'));
ALTER TABLE referrals DROP CONSTRAINT referrals_kind_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_kind_check CHECK (kind IN (
    'psychosocial', 'education', 'vocational_training'));
ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check CHECK (kind IN (
    'psychosocial', 'education', 'vocational_training'));
