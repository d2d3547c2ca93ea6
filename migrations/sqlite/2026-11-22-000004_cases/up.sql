-- Cases (one person each), households, notes, and what makes them findable
-- without decrypting: blind indexes. Columns ending in _enc hold AES-256-GCM
-- ciphertext sealed with the person's own data key (see docs/security.md);
-- everything else is plaintext because scoping or aggregates need it.

-- An empty table whose only use is to let a SQLite transaction take the
-- write lock first (see db::write_transaction). Present on both backends to
-- keep the migrations in lockstep; PostgreSQL never touches it.
CREATE TABLE write_lock (
    id INTEGER PRIMARY KEY NOT NULL
);

-- One data key per subject (a case, or a household for its label), wrapped
-- by a key-encryption key. NULL wrapped_key means erased (crypto-shredded).
CREATE TABLE data_keys (
    subject_id TEXT PRIMARY KEY NOT NULL,
    kek_version INTEGER,
    wrapped_key BLOB,
    created_at TIMESTAMP NOT NULL,
    erased_at TIMESTAMP,
    CHECK ((wrapped_key IS NULL) = (kek_version IS NULL))
);
CREATE INDEX data_keys_kek_version ON data_keys (kek_version);

CREATE TABLE households (
    id TEXT PRIMARY KEY NOT NULL,
    city_id TEXT NOT NULL REFERENCES cities (id),
    label_enc BLOB,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX households_city_id ON households (city_id);

-- The last case number given per city and year.
CREATE TABLE case_counters (
    city_id TEXT NOT NULL REFERENCES cities (id),
    year INTEGER NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (city_id, year)
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    case_number TEXT NOT NULL UNIQUE,
    city_id TEXT NOT NULL REFERENCES cities (id),
    household_id TEXT REFERENCES households (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'active', 'closed', 'erased')),
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male')),
    birth_year INTEGER NOT NULL,
    origin_kind TEXT NOT NULL,
    return_date DATE NOT NULL,
    -- Sorted, comma-separated flag names: coarse categories for aggregates.
    vulnerability_flags TEXT NOT NULL,
    consent_share BOOLEAN NOT NULL,
    consent_given_by TEXT NOT NULL CHECK (consent_given_by IN ('self', 'guardian')),
    consent_given_at TIMESTAMP NOT NULL,
    assigned_to TEXT REFERENCES users (id),
    full_name_enc BLOB NOT NULL,
    full_name_latin_enc BLOB,
    date_of_birth_enc BLOB NOT NULL,
    national_id_enc BLOB,
    phone_enc BLOB,
    address_enc BLOB,
    origin_place_enc BLOB,
    vulnerability_notes_enc BLOB,
    closure_reason_enc BLOB,
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    erased_at TIMESTAMP
);
-- Keyset pagination of a city's cases, newest first.
CREATE INDEX cases_city_created ON cases (city_id, created_at, id);
CREATE INDEX cases_household_id ON cases (household_id);
CREATE INDEX cases_assigned_to ON cases (assigned_to);

-- Blind indexes (truncated keyed HMACs) of national id, phone and name
-- tokens. city_id is copied so a lookup can tell "here" from "elsewhere"
-- without touching the case row.
CREATE TABLE case_search_index (
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL CHECK (kind IN ('national_id', 'phone', 'name')),
    value TEXT NOT NULL,
    city_id TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_search_index_lookup ON case_search_index (kind, value);

CREATE TABLE case_notes (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    city_id TEXT NOT NULL REFERENCES cities (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    visit_date DATE,
    body_enc BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case_created ON case_notes (case_id, created_at);
