//! Domain types: identifiers that cannot be mixed up, roles, and the small
//! parsed values the rest of the code relies on.

pub mod ids;
pub mod role;
pub mod time;

pub use ids::{CityId, GovernorateId, OrganisationId, UserId};
pub use role::{OrganisationKind, Role};
