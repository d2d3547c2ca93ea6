-- Assessment instruments (published, immutable versions) and the
-- assessments made with them (src/assessments, docs/assessments.md).

-- An instrument version: its whole definition as JSON (items by
-- dimension, answer scales and values, weights, labels in three
-- languages). The application never updates or deletes a row.
CREATE TABLE instruments (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    published_by TEXT REFERENCES users (id),
    published_at TIMESTAMP NOT NULL,
    UNIQUE (code, version)
);

-- An assessment of one person. The answers are sealed with the person's
-- data key (bound to the assessment's id and the case's city); the scores
-- the server computed on submission are plaintext tenths (0 to 10) so that
-- statistics can count them without opening anything.
CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    instrument_id TEXT NOT NULL REFERENCES instruments (id),
    stage TEXT NOT NULL CHECK (stage IN ('baseline', 'follow_up', 'exit')),
    state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'reviewed', 'voided')),
    answers_enc BYTEA NOT NULL,
    score_economic SMALLINT CHECK (score_economic BETWEEN 0 AND 10),
    score_social SMALLINT CHECK (score_social BETWEEN 0 AND 10),
    score_psychosocial SMALLINT CHECK (score_psychosocial BETWEEN 0 AND 10),
    score_composite SMALLINT CHECK (score_composite BETWEEN 0 AND 10),
    void_reason_enc BYTEA,
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at TIMESTAMP,
    voided_by TEXT REFERENCES users (id),
    voided_at TIMESTAMP,
    version BIGINT NOT NULL,
    CHECK ((score_composite IS NULL) = (state IN ('draft', 'voided') AND submitted_at IS NULL))
);
CREATE INDEX assessments_case ON assessments (case_id, created_at);
CREATE INDEX assessments_city ON assessments (city_id, state);
-- At most one baseline a case, voided ones aside.
CREATE UNIQUE INDEX assessments_one_baseline ON assessments (case_id)
    WHERE stage = 'baseline' AND state <> 'voided';
