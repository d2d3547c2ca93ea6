//! The API test suite: one binary, a real server on port 0 and a fresh
//! database per test. With `TEST_DATABASE_URL=postgres://…` set every test
//! runs on a new PostgreSQL database (created, migrated, dropped after);
//! otherwise on a new SQLite file.

mod access;
mod accounts;
mod assessments;
mod audit;
mod audit_history;
mod audit_trail;
mod auditing;
mod auth;
mod canary;
mod cases;
mod closure;
mod consent;
mod cors;
mod demo;
mod duties;
mod enrolment;
mod erasure;
mod errors;
mod faults;
mod follow_ups;
mod health;
mod helpers;
mod household_referrals;
mod input;
mod languages;
mod limits;
mod livelihoods;
mod logs;
mod messages;
mod openapi;
mod packaging;
mod paging;
mod plans;
mod races;
mod referrals;
mod rotation;
mod seen;
mod stats;
mod tasks;
mod throttle;
mod totp;
mod transfers;
