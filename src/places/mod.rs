//! Governorates, cities and provider organisations: admins write them, every
//! signed-in user reads them.

pub mod model;
pub mod routes;
pub mod store;
