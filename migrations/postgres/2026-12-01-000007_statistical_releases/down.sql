DROP INDEX cases_city_return_date;
DROP TABLE stats_cells;
DROP TABLE stats_frozen_months;
DROP TABLE stats_ledger;
DROP TABLE stats_releases;
