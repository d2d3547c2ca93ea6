//! Sanad: the case-management backend for the reintegration of returnees.
//! See `docs/architecture.md` for the layers and how a request flows.

pub mod audit;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod commands;
pub mod cors;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod extract;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod places;
pub mod referrals;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod stats;
pub mod telemetry;
pub mod transfers;
pub mod users;
