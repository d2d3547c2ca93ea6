CREATE TABLE audit_subjects_old (
    subject_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    event_id TEXT NOT NULL REFERENCES audit_events (id),
    kind TEXT NOT NULL CHECK (kind IN ('case', 'referral', 'national_id', 'phone', 'name')),
    PRIMARY KEY (subject_id, occurred_at, event_id, kind)
) WITHOUT ROWID;
INSERT INTO audit_subjects_old (subject_id, occurred_at, event_id, kind)
SELECT subject_id, occurred_at, event_id, kind FROM audit_subjects;
DROP TABLE audit_subjects;
ALTER TABLE audit_subjects_old RENAME TO audit_subjects;
CREATE INDEX audit_subjects_event ON audit_subjects (event_id);

CREATE TRIGGER audit_subjects_no_update
BEFORE UPDATE ON audit_subjects
BEGIN
    SELECT RAISE(ABORT, 'audit_subjects is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_subjects_no_delete
BEFORE DELETE ON audit_subjects
BEGIN
    SELECT RAISE(ABORT, 'audit_subjects is append-only: DELETE refused');
END;
