//! Sanad: the case-management backend for the reintegration of returnees.
//! See `docs/architecture.md` for the layers and how a request flows.

pub mod assessments;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod closures;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod follow_ups;
pub mod health;
pub mod households;
pub mod i18n;
pub mod key_rotation;
pub mod pagination;
pub mod places;
pub mod plans;
pub mod referrals;
pub mod settings;
pub mod stats;
pub mod tasks;
pub mod transfers;
pub mod users;
pub mod web;
