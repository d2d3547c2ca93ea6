ALTER TABLE audit_subjects
    ADD CONSTRAINT audit_subjects_event_id_fkey FOREIGN KEY (event_id) REFERENCES audit_events (id);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_queue_no_key UNIQUE (queue_no);
