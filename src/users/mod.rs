//! User accounts: admins create and change them; every user reads their own.

pub mod model;
pub mod routes;
pub mod store;
