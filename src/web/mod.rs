//! The HTTP layer. What handlers use: [`context::Context`] (the caller, the
//! database and the keys, and the guarded action), [`extract`] (bodies,
//! queries and paths that fail as problems) and [`telemetry::RequestId`]. What
//! assembles the server: [`startup`] (the application), [`routes`] (the
//! route table), [`openapi`] (the document, collected from that table),
//! [`docs`] (serving it), [`middleware`], [`cors`] and [`metrics`].

pub mod context;
pub mod cors;
pub mod docs;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod telemetry;
