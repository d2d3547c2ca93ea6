//! Staff accounts: admins create and change them, a second person approves
//! what lets an account see people (`grants.rs`), people set their own
//! passwords with one-time enrolment codes (`enrolment.rs`), and every user
//! reads their own.

pub mod account;
pub mod enrolment;
pub mod grants;
pub mod model;
pub mod requests;
pub mod review;
pub mod routes;
pub mod store;
