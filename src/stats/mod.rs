//! Statistics that cannot single anyone out.
//!
//! Ministry officials see figures only from statistical releases: tables of
//! counts over the full, fixed value set of each dimension, by calendar
//! month, measured once with OpenDP's discrete Gaussian mechanism under a
//! privacy ledger with a yearly limit, and stored; every query is
//! post-processing of one stored release. City supervisors see exact, live
//! counts of their own cities. `docs/statistics.md` explains the model.
//!
//! - [`design`]. the designed set of released tables and their dimensions;
//! - [`source`]. reading the plaintext categories a release counts;
//! - [`tables`]. a table's fixed grid, and measuring it;
//! - [`mechanism`]. OpenDP — the only way data reaches a released figure;
//! - [`release`]. planning, measuring and storing a release, the ledger;
//! - [`schedule`]. the server's monthly release;
//! - [`settings`]. the `[stats]` settings;
//! - [`store`]. releases, ledger and cells in the database;
//! - [`answer`]. answering a request from a release, or live;
//! - [`gate`]. requests in flight per user;
//! - [`view`]. JSON and CSV answers;
//! - [`routes`]. HTTP.

pub mod answer;
pub mod design;
pub mod gate;
pub mod mechanism;
pub mod release;
pub mod routes;
pub mod schedule;
pub mod settings;
pub mod source;
pub mod store;
pub mod tables;
pub mod view;
