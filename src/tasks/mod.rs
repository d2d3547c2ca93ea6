//! `GET /tasks`: the caller's day. Overdue first, then what falls due this
//! week, across follow-ups, transfers waiting in their cities, open
//! referrals due, and assessments due; a supervisor sees their cities'
//! queue grouped by worker; households no one has contacted for
//! `follow_ups.quiet_household_days` are flagged. Items name case ids and
//! case numbers, never names. See docs/follow-ups.md.

pub mod model;
pub mod routes;
pub mod store;
