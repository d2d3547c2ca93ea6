//! Follow-ups: contacts with a person scheduled by a worker of the case's
//! city (a home visit, a phone call, a referral check, an assessment that
//! falls due), with a due date and an assignee, ended once as done (with a
//! note sealed with the person's key), missed or cancelled. The system
//! schedules a referral check `follow_ups.referral_check_days` after a
//! referral is completed or declined. See docs/follow-ups.md.

pub mod model;
pub mod routes;
pub mod store;
