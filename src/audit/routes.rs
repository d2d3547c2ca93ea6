//! `GET /audit` and `GET /audit/verify`, for auditors only. Reading the log
//! is itself an audited event.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{self, Action as PolicyAction, Resource};
use crate::auth::trail;
use crate::db::{Database, write_transaction};
use crate::domain::time;
use crate::error::{ApiError, Problem};
use crate::web::extract;
use crate::web::telemetry::RequestId;

use super::{Action, AuditFilter, Cursor, Entity, Event, Outcome};

#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(value_type = Option<String>, format = Uuid)]
    pub actor_id: Option<uuid::Uuid>,
    pub entity_id: Option<String>,
    /// An action name such as `case.read`.
    #[param(schema_with = action_names, required = false)]
    pub action: Option<String>,
    /// Inclusive, RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive, RFC 3339.
    pub to: Option<DateTime<Utc>>,
    /// 1 to `pagination.max_page_size` (100 unless configured); default
    /// `pagination.default_page_size` (50). Any larger value is cut to the
    /// maximum, 0 to 1; a value that is not a u32 is a 422.
    #[param(format = Int64, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Every audit action name, for the `action` filter.
fn action_names() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Action::ALL.iter().map(|a| a.as_str())))
        .build()
}

/// One audit event as auditors see it. No field holds a person's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    #[schema(format = Uuid)]
    pub id: String,
    /// Position in the hash chain; absent for the few milliseconds before the
    /// sequencer reaches the event.
    #[schema(required = true)]
    pub seq: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    #[schema(required = true)]
    pub actor_id: Option<String>,
    #[schema(required = true)]
    pub actor_role: Option<String>,
    pub action: String,
    #[schema(required = true)]
    pub entity: Option<String>,
    #[schema(required = true)]
    pub entity_id: Option<String>,
    #[schema(required = true)]
    pub city_id: Option<String>,
    pub outcome: String,
    #[schema(required = true)]
    pub request_id: Option<String>,
    #[schema(required = true)]
    pub detail: Option<String>,
}

impl From<Event> for AuditEvent {
    fn from(e: Event) -> AuditEvent {
        AuditEvent {
            id: e.id,
            seq: e.seq,
            occurred_at: time::to_utc(e.occurred_at),
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            city_id: e.city_id,
            outcome: e.outcome,
            request_id: e.request_id,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    pub ok: bool,
    /// Events found intact, in chain order.
    pub events: u64,
    #[schema(required = true)]
    pub first_broken_id: Option<String>,
    /// The last intact event's position and hash: record them outside the
    /// database to detect a removed tail later.
    #[schema(required = true)]
    pub head_seq: Option<i64>,
    #[schema(required = true)]
    pub head_hash: Option<String>,
}

/// The audit log, newest first, with filters.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list_events(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, PolicyAction::AuditRead, Resource::Collection)?;
    let query: AuditQuery = extract::parse_query(&req)?;
    let action = query
        .action
        .as_deref()
        .map(|a| {
            Action::parse(a).ok_or_else(|| ApiError::field("action", "is not an audit action"))
        })
        .transpose()?;
    let cursor = query.cursor.as_deref().map(Cursor::parse).transpose()?;
    let filter = AuditFilter {
        actor_id: query.actor_id,
        entity_id: query.entity_id,
        action,
        from: query.from,
        to: query.to,
    };
    let limit = extract::page_size(&req, query.limit);
    let page = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let (events, next) = super::list(conn, &filter, limit, cursor.as_ref())?;
                super::append(
                    conn,
                    &trail::event(&principal, &request, Action::AuditRead, Outcome::Success)
                        .entity(Entity::AuditLog, uuid::Uuid::nil()),
                )?;
                Ok(AuditPage {
                    items: events.into_iter().map(AuditEvent::from).collect(),
                    next_cursor: next.map(|c| c.encode()),
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Walks the hash chain and names the first broken event.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, body = VerifyResult),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit/verify")]
pub async fn verify_chain(
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, PolicyAction::AuditRead, Resource::Collection)?;
    let result = db
        .run(move |conn| {
            let verification = super::verify(conn)?;
            let outcome = if verification.ok {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            write_transaction(conn, |conn| {
                super::append(
                    conn,
                    &trail::event(&principal, &request, Action::AuditVerify, outcome)
                        .entity(Entity::AuditLog, uuid::Uuid::nil()),
                )
            })?;
            Ok(VerifyResult {
                ok: verification.ok,
                events: verification.events,
                first_broken_id: verification.first_broken_id,
                head_seq: verification.head.as_ref().map(|h| h.0),
                head_hash: verification.head.map(|h| h.1),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
