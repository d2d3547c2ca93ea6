-- Less work per audited request (issue 17, docs/performance.md).
--
-- queue_no is the rowid here: no index of its own to drop.
--
-- The foreign key from a subject row to its event looked the event up for
-- every person an answer showed (fifty for a page of cases). The rows are
-- written only by audit::append, in the statement after their event and in
-- its transaction, and the event's MAC covers them: a subject row added
-- later breaks the MAC of the event it names, and one naming no event is
-- never listed (every listing joins the event). SQLite cannot drop a
-- foreign key, so the table is made again without it, rows, index and
-- append-only triggers as they were.
CREATE TABLE audit_subjects_new (
    subject_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('case', 'referral', 'national_id', 'phone', 'name')),
    PRIMARY KEY (subject_id, occurred_at, event_id, kind)
) WITHOUT ROWID;
INSERT INTO audit_subjects_new (subject_id, occurred_at, event_id, kind)
SELECT subject_id, occurred_at, event_id, kind FROM audit_subjects;
DROP TABLE audit_subjects;
ALTER TABLE audit_subjects_new RENAME TO audit_subjects;
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
