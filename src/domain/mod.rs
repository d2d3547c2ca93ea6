//! Domain types: identifiers that cannot be mixed up, roles, and the small
//! parsed values the rest of the code relies on.

pub mod case;
pub mod ids;
pub mod role;
pub mod time;

pub use case::{CaseStatus, ConsentGiver, OriginKind, Sex, VulnerabilityFlag};
pub use ids::{CaseId, CityId, GovernorateId, HouseholdId, NoteId, OrganisationId, UserId};
pub use role::{OrganisationKind, Role};
