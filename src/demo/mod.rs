//! `sanad demo seed`: a realistic synthetic data set for demonstrations and
//! benchmarks. People are made up from [`data`]'s lists, then sealed,
//! indexed and stored by the same store code the API uses, in batches.

mod assessments;
mod casework;
pub mod data;
mod follow_up;
mod people;
mod rng;
mod seed;
mod setup;

pub use seed::{Progress, SeedOptions, SeedReport, seed};
pub use setup::DemoUser;
