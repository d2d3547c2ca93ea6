-- Reintegration plans (docs/plans.md): versions of a plan per case, each
-- with goals by dimension and actions under them. A version is drafted,
-- submitted, then approved (the active plan) or returned by a city
-- supervisor who did not write it; revising drafts a new version and the
-- old stays, read-only, with its approver. Goal and action text is sealed
-- with the person's data key, bound to the goal's or action's id and the
-- case's city; dimensions, statuses and dates are plaintext for counting.
CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'returned', 'superseded')),
    previous_id TEXT REFERENCES plans (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    return_reason_enc BLOB,
    row_version BIGINT NOT NULL,
    UNIQUE (case_id, version)
);
-- One active plan a case, and one version being written or reviewed.
CREATE UNIQUE INDEX plans_one_active ON plans (case_id) WHERE status = 'approved';
CREATE UNIQUE INDEX plans_one_open ON plans (case_id) WHERE status IN ('draft', 'submitted');
CREATE INDEX plans_city ON plans (city_id, status);

CREATE TABLE plan_goals (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    dimension TEXT NOT NULL CHECK (dimension IN ('economic', 'social', 'psychosocial', 'education', 'protection')),
    text_enc BLOB NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX plan_goals_plan ON plan_goals (plan_id, position);
CREATE INDEX plan_goals_case ON plan_goals (case_id);

CREATE TABLE plan_actions (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    goal_id TEXT NOT NULL REFERENCES plan_goals (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    text_enc BLOB NOT NULL,
    referral_id TEXT REFERENCES referrals (id),
    target_date DATE,
    status TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    position INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_actions_plan ON plan_actions (plan_id, goal_id, position);
CREATE INDEX plan_actions_case ON plan_actions (case_id);
