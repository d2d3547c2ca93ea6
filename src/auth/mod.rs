//! Authentication and authorisation: passwords and the workers that check
//! them, tokens, sign-in and enrolment, the second factor, the signed-in
//! principal, login throttling, and `policy`, where every access decision
//! is made.

pub mod address;
pub mod enrol;
pub mod guard;
pub mod jwt;
pub mod login;
pub mod password;
pub mod policy;
pub mod principal;
pub mod routes;
pub mod settings;
pub mod state;
pub mod store;
pub mod throttle;
pub mod totp;
pub mod trail;
pub mod work;

pub use policy::{Action, Resource, Scope};
pub use principal::Principal;
