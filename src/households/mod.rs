//! Households: a mother and her children, each their own case. The label a
//! worker gives a household is sealed with the household's own data key.

pub mod model;
pub mod routes;
pub mod store;
