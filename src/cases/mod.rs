//! Cases: one person each, followed by a city's social workers. Households
//! group a mother and her children; notes record visits and follow-ups.

pub mod data_keys;
pub mod lifecycle;
pub mod model;
pub mod notes;
#[cfg(test)]
mod properties;
pub mod routes;
pub mod store;
