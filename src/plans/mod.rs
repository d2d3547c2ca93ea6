//! Reintegration plans: goals by dimension (economic, social,
//! psychosocial, education, protection), each with actions (an optional
//! referral, a target date, a status). A version is drafted, submitted and
//! approved — the case's one active plan — or returned, by a city
//! supervisor of the case's city who did not write it; revising drafts a
//! new version that goes through approval again, and the old stays,
//! read-only, with its approver. Goal and action text is sealed with the
//! person's key. See docs/plans.md.

pub mod model;
pub mod routes;
pub mod store;
