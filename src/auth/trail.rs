//! Access decisions that leave a trace: the policy's answer, with a denied
//! attempt appended to the audit log before the error goes back.

use uuid::Uuid;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::db::AnyConnection;
use crate::domain::CityId;
use crate::error::ApiError;
use crate::web::telemetry::RequestId;

use super::Principal;
use super::policy::{self, Action, Resource};

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

/// What a decision is about, for the audit event.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub entity: Entity,
    pub id: Uuid,
    pub city: Option<CityId>,
}

/// `policy::authorize`, recording a denial. Call it outside a transaction
/// (or before the one that does the work), so that the denied event is
/// committed even though the request fails.
pub fn authorize(
    conn: &mut AnyConnection,
    principal: &Principal,
    request: &RequestId,
    action: Action,
    resource: Resource,
    target: Target,
) -> Result<(), ApiError> {
    let decision = policy::authorize(principal, action, resource);
    if decision.is_err() {
        let mut denied = event(
            principal,
            request,
            audit::Action::AccessDenied,
            Outcome::Denied,
        )
        .entity(target.entity, target.id)
        .detail(format!("{action:?}"));
        if let Some(city) = target.city {
            denied = denied.city(city.as_uuid());
        }
        audit::append(conn, &denied)?;
    }
    decision
}
