-- Statistical releases (src/stats, docs/statistics.md). Ministry figures
-- come only from here: tables of noisy counts made once by an OpenDP
-- mechanism and never drawn again.

-- One release: what it covers and the privacy loss it spent. seq orders
-- releases; two nodes making one at once both take the next seq, and the
-- second to commit fails on the key, so the ledger check cannot be raced.
CREATE TABLE stats_releases (
    seq BIGINT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    -- 'scheduled' (the server, after a month settled) or 'operator'.
    trigger_kind TEXT NOT NULL CHECK (trigger_kind IN ('scheduled', 'operator')),
    -- The months whose frozen tables this release can answer: every month
    -- from first_month to last_month (YYYY-MM), the newest ones first
    -- measured by this release.
    first_month TEXT NOT NULL,
    last_month TEXT NOT NULL,
    -- Calendar year the release counts against in the ledger.
    ledger_year INTEGER NOT NULL,
    -- zCDP rho spent by this release, and by the year's releases up to and
    -- including this one, as decimal text (no portable floating type).
    rho TEXT NOT NULL,
    rho_year_total TEXT NOT NULL,
    -- Settings the answers from this release are held to.
    rho_year_limit TEXT NOT NULL,
    epsilon_at_delta TEXT NOT NULL,
    small_cell_k INTEGER NOT NULL,
    referrals_per_person INTEGER NOT NULL
);
CREATE INDEX stats_releases_ledger_year ON stats_releases (ledger_year);

-- The ledger: one line per table measured by a release, with the privacy
-- loss OpenDP's privacy map gave for it, the bound on one person's rows
-- (d_in) and the noise scale (the margins of every figure derive from it).
CREATE TABLE stats_ledger (
    release_seq BIGINT NOT NULL REFERENCES stats_releases (seq),
    table_name TEXT NOT NULL,
    first_month TEXT NOT NULL,
    last_month TEXT NOT NULL,
    measurements INTEGER NOT NULL,
    d_in INTEGER NOT NULL,
    scale TEXT NOT NULL,
    rho TEXT NOT NULL,
    PRIMARY KEY (release_seq, table_name)
);

-- Each month of a frozen (monthly) table is measured once, by one release;
-- the key makes a second measurement of the same month impossible.
CREATE TABLE stats_frozen_months (
    table_name TEXT NOT NULL,
    month TEXT NOT NULL,
    release_seq BIGINT NOT NULL REFERENCES stats_releases (seq),
    PRIMARY KEY (table_name, month)
);

-- The noisy counts. Monthly tables' cells are stored once, under the
-- release that measured their month; snapshot tables' cells under every
-- release. d1..d3 are the table's dimensions after the governorate, in the
-- order the table's design names them ('' when unused).
CREATE TABLE stats_cells (
    table_name TEXT NOT NULL,
    release_seq BIGINT NOT NULL REFERENCES stats_releases (seq),
    month TEXT NOT NULL,
    governorate TEXT NOT NULL,
    d1 TEXT NOT NULL,
    d2 TEXT NOT NULL,
    d3 TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (table_name, release_seq, month, governorate, d1, d2, d3)
);
CREATE INDEX stats_cells_month ON stats_cells (table_name, month, release_seq);

-- Supervisors' live counts read a city's cases by return date.
CREATE INDEX cases_city_return_date ON cases (city_id, return_date);
