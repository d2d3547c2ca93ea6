//! Referrals: a city's social worker refers a case to a provider
//! organisation (psychosocial support, education, vocational training,
//! employment, business support, civil documentation, health, legal aid,
//! community programmes). The provider sees only a minimal view of the
//! person, and only while the referral is open; it accepts, declines,
//! starts and completes it, posting progress updates while it is in
//! progress, and the referring city may cancel it. A referral follows its
//! case on a transfer.

pub mod machine;
pub mod model;
pub mod routes;
pub mod store;
pub mod updates;
pub mod views;
