//! The caller's trace in the audit log: an event about this caller and
//! request, and the record of a refused attempt.

use uuid::Uuid;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::db::AnyConnection;
use crate::domain::CityId;
use crate::error::ApiError;
use crate::web::telemetry::RequestId;

use super::Principal;
use super::policy::{Action, Resource};

/// An audit event about this caller and request.
pub fn event(
    principal: &Principal,
    request: &RequestId,
    action: audit::Action,
    outcome: Outcome,
) -> NewEvent {
    NewEvent::new(action, outcome)
        .actor(principal.user_id.as_uuid(), principal.role.as_str())
        .request(request)
}

/// What a refused attempt was aimed at: the kind and id of the object (a
/// nil id for one not made yet), and its city when known.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub entity: Entity,
    pub id: Uuid,
    pub city: Option<CityId>,
}

impl Target {
    /// Where an object held in a city, or in a referral's city, is.
    pub fn city_of(resource: Resource) -> Option<CityId> {
        match resource {
            Resource::City(city) | Resource::Referral { city, .. } => Some(city),
            Resource::Collection => None,
        }
    }
}

/// Appends the `access.denied` event of a refused `action`. The caller
/// commits it and then answers with the refusal.
pub fn record_denial(
    conn: &mut AnyConnection,
    principal: &Principal,
    request: &RequestId,
    action: Action,
    target: Option<Target>,
) -> Result<(), ApiError> {
    let mut denied = event(
        principal,
        request,
        audit::Action::AccessDenied,
        Outcome::Denied,
    )
    .detail(format!("{action:?}"));
    if let Some(target) = target {
        denied = denied.entity(target.entity, target.id);
        if let Some(city) = target.city {
            denied = denied.city(city.as_uuid());
        }
    }
    audit::append(conn, &denied)
}
