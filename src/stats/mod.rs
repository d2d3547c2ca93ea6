//! Anonymised aggregates for ministries and city supervisors: counts over
//! plaintext categories, grouped in the database, with small cells and
//! their complements hidden before anyone sees them.

pub mod routes;
pub mod store;
pub mod suppress;
