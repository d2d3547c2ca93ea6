//! Cases: one person each, followed by a city's social workers. A case is
//! opened, changed, noted, closed, reopened, erased and moved here;
//! households, referrals and transfers build on it.
//!
//! - [`model`]: what the routes accept and answer; [`checks`]: that input,
//!   parsed into the types the store takes;
//! - [`row`]: one row of `cases` and how a guarded action finds it;
//!   [`store`]: queries on `cases`; [`sealing`]: sealing and opening a
//!   case's fields; [`index`]: its blind indexes; [`search`]: the search;
//!   [`data_keys`]: the per-person data keys;
//! - [`lifecycle`]: closing, reopening, moving to another city;
//!   [`erasure`]: erasing a person; [`ending`]: what ends with their
//!   consent or with them; [`notes`]: home visits and follow-ups;
//! - [`routes`]: the HTTP handlers.

pub mod checks;
pub mod data_keys;
pub mod ending;
pub mod erasure;
pub mod index;
pub mod lifecycle;
pub mod model;
pub mod notes;
#[cfg(test)]
mod properties;
pub mod routes;
pub mod row;
pub mod sealing;
pub mod search;
pub mod store;
