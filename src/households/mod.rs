//! Households: a mother and her children, each their own case. The label a
//! worker gives a household is sealed with the household's own data key.
//! Several members can be referred at once (`referrals`), each getting
//! their own referral.

pub mod model;
pub mod referrals;
pub mod routes;
pub mod store;
