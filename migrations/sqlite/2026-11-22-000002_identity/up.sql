-- Users, their cities, and refresh-token families.
-- token_version is bumped whenever a user's role, cities, organisation or
-- active flag changes, or their password does: every access token carries the
-- version it was issued under, and a mismatch is a 401 on the next request.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('social_worker', 'city_supervisor', 'provider_staff', 'ministry_official', 'auditor', 'admin')),
    organisation_id TEXT REFERENCES organisations (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    token_version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((role = 'provider_staff') = (organisation_id IS NOT NULL))
);

CREATE TABLE user_cities (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    city_id TEXT NOT NULL REFERENCES cities (id),
    PRIMARY KEY (user_id, city_id)
);
CREATE INDEX user_cities_city_id ON user_cities (city_id);

-- Only a SHA-256 of each refresh token is stored. Tokens issued from one
-- login form a family; presenting a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    spent_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
