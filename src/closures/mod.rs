//! Closing a case needs a second pair of eyes: a social worker asks for
//! closure with a reason (a closed set) and an optional note (sealed); a
//! city supervisor of the case's city who did not ask approves it, and the
//! case closes, or returns it with a reason. A case with an open referral
//! does not close (409 naming the referrals) until they are resolved. A
//! supervisor's direct close (`POST /cases/{id}/close`) is kept as a
//! self-approved request. See docs/closure.md.

pub mod model;
pub mod routes;
pub mod store;
