//! Sanad: the case-management backend for the reintegration of returnees.
//! See `docs/architecture.md` for the layers and how a request flows.

pub mod audit;
pub mod cli;
pub mod db;
pub mod error;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod telemetry;
