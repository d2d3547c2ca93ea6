-- Less work per audited request (issue 17, docs/performance.md).
--
-- queue_no is an identity column, GENERATED ALWAYS: the database numbers
-- every event and nobody can choose the number, so its UNIQUE index only
-- cost a second index entry per event, at the INSERT and again at the
-- sequencer's UPDATE. The sequencer reads queue order from the partial
-- index audit_events_unchained.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_queue_no_key;

-- The foreign key from a subject row to its event ran a lookup and a row
-- lock of the event for every person an answer showed (fifty for a page
-- of cases). The rows are written only by audit::append, in the statement
-- after their event and in its transaction, and the event's MAC covers
-- them: a subject row added later breaks the MAC of the event it names,
-- and one naming no event is never listed (every listing joins the event).
ALTER TABLE audit_subjects DROP CONSTRAINT audit_subjects_event_id_fkey;
