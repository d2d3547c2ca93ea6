-- Follow-ups (docs/follow-ups.md): scheduled contacts with a person, by a
-- worker of the case's city. Kind, status and dates are plaintext (the work
-- queue sorts and counts them); the note recorded when one is done is
-- sealed with the person's data key, bound to the follow-up's id and the
-- case's city (re-sealed on a transfer, deleted on erasure). A follow-up
-- the system scheduled (a referral check) has no creator.
CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    kind TEXT NOT NULL CHECK (kind IN ('home_visit', 'phone_call', 'referral_check', 'assessment_due')),
    due_on DATE NOT NULL,
    assigned_to TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'done', 'missed', 'cancelled')),
    referral_id TEXT REFERENCES referrals (id),
    note_enc BYTEA,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    ended_by TEXT REFERENCES users (id),
    ended_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((status = 'scheduled') = (ended_at IS NULL))
);
CREATE INDEX follow_ups_case ON follow_ups (case_id, due_on);
CREATE INDEX follow_ups_city ON follow_ups (city_id, status, due_on);
CREATE INDEX follow_ups_assignee ON follow_ups (assigned_to, status, due_on);
