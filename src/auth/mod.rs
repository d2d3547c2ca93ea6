//! Authentication and authorisation: passwords, tokens, the signed-in
//! principal, login throttling, and `policy`, where every access decision is
//! made.

pub mod guard;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod principal;
pub mod routes;
pub mod store;
pub mod throttle;
pub mod trail;

pub use policy::{Action, Resource, Scope};
pub use principal::Principal;
