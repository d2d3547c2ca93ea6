DROP TABLE login_attempts;
DROP TABLE grant_requests;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_enabled_at;
ALTER TABLE users DROP COLUMN totp_secret_enc;
ALTER TABLE users DROP COLUMN enrolment_expires_at;
ALTER TABLE users DROP COLUMN enrolment_code_hash;
ALTER TABLE users DROP COLUMN approval;
