//! `GET /audit`, `GET /audit/verify` and `POST /audit/lookups`, for
//! auditors only. Reading the log is itself an audited event.

use actix_web::{HttpRequest, HttpResponse, get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::policy::Action as PolicyAction;
use crate::auth::trail;
use crate::db::write_transaction;
use crate::domain::time;
use crate::error::ApiError;
use crate::pagination::{Listed, Page};
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::lookup::{self, LookupRequest};
use super::{Action, AuditFilter, Entity, Event, Outcome, SubjectRow};

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

/// Whom an event is about besides its entity.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditSubject {
    /// `case`: a person the answer showed; `referral`: one the action
    /// ended; `national_id`, `phone`, `name`: a term a search looked for,
    /// given as its blind index (16 hex digits), never the term.
    #[schema(schema_with = subject_kinds)]
    pub kind: String,
    pub id: String,
}

fn subject_kinds() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(super::SubjectKind::ALL.iter().map(|k| k.as_str())))
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
    /// The people an answer showed, the referrals an action ended, the
    /// terms a search looked for.
    pub subjects: Vec<AuditSubject>,
}

impl AuditEvent {
    /// The event as auditors see it, with its subject rows.
    fn with_subjects(e: Event, subjects: Vec<SubjectRow>) -> AuditEvent {
        let subjects = subjects
            .into_iter()
            .map(|s| AuditSubject {
                kind: s.kind,
                id: s.subject_id,
            })
            .collect();
        AuditEvent {
            subjects,
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

/// A page of events, each with its subjects (one more query for the page).
fn shown(
    conn: &mut crate::db::AnyConnection,
    events: Vec<Event>,
) -> Result<Vec<AuditEvent>, ApiError> {
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let mut subjects = super::store::subjects_of(conn, &ids)?;
    Ok(events
        .into_iter()
        .map(|e| {
            let listed = subjects.remove(&e.id).unwrap_or_default();
            AuditEvent::with_subjects(e, listed)
        })
        .collect())
}

/// A page of the audit log.
pub type AuditPage = Page<AuditEvent>;

impl Listed for AuditEvent {
    const PAGE: &'static str = "AuditPage";
    const NEXT_CURSOR_DOC: Option<&'static str> = None;
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    pub ok: bool,
    /// Events found intact, in chain order, before the first broken one.
    pub events: u64,
    /// Events that did not check out (inserted, changed, moved, or after a
    /// removed one), in the whole chain.
    pub broken: u64,
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
    responses((status = 200, body = AuditPage))
)]
#[get("/audit")]
pub async fn list_events(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let query = extract::parse_query::<AuditQuery>(&req).and_then(|query| {
        let action = query.action.as_deref().map(|a| {
            Action::parse(a).ok_or_else(|| ApiError::field("action", "is not an audit action"))
        });
        let page = ctx.page(query.limit, query.cursor.as_deref())?;
        Ok((query, action.transpose()?, page))
    });
    let page = ctx
        .on_collection(
            PolicyAction::AuditRead,
            query,
            |tx, _, (query, action, page)| {
                let filter = AuditFilter {
                    actor_id: query.actor_id,
                    entity_id: query.entity_id,
                    action,
                    from: query.from,
                    to: query.to,
                };
                let (events, next_cursor) = page.cut(
                    super::list(tx.conn, &filter, &page)?,
                    super::store::position,
                );
                let items = shown(tx.conn, events)?;
                let event = tx
                    .event(Action::AuditRead)
                    .entity(Entity::AuditLog, uuid::Uuid::nil());
                Ok((Page { items, next_cursor }, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Walks the hash chain and names the first broken event.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    responses((status = 200, body = VerifyResult))
)]
#[get("/audit/verify")]
pub async fn verify_chain(ctx: Context) -> Result<HttpResponse, ApiError> {
    // The walk runs outside the transaction that records it: it reads the
    // whole log and must not hold the write lock meanwhile.
    let principal = ctx.may(PolicyAction::AuditRead).await?;
    let request = ctx.request.clone();
    let keys = ctx.database().audit_keys().cloned().ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("the server was started without audit keys"))
    })?;
    let result = ctx
        .database()
        .run(move |conn| {
            let verification = super::verify(conn, &keys)?;
            let outcome = match verification.ok {
                true => Outcome::Success,
                false => Outcome::Failure,
            };
            let event = trail::event(&principal, &request, Action::AuditVerify, outcome)
                .entity(Entity::AuditLog, uuid::Uuid::nil());
            write_transaction(conn, |conn| super::append(conn, &event))?;
            Ok(VerifyResult {
                ok: verification.ok,
                events: verification.events,
                broken: verification.broken,
                first_broken_id: verification.first_broken_id,
                head_seq: verification.head.as_ref().map(|h| h.0),
                head_hash: verification.head.map(|h| h.1),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Which events searched for a term: give one national ID, phone number or
/// name; the server computes its blind index as the search did. The lookup
/// is itself recorded, with the same index.
#[utoipa::path(
    tag = "audit",
    request_body = LookupRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage))
)]
#[post("/audit/lookups")]
pub async fn lookups(ctx: Context, body: ApiJson<LookupRequest>) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let page = ctx.page(request.limit, request.cursor.as_deref());
    let input = page.map(|page| (request, page));
    let page = ctx
        .on_collection(
            PolicyAction::AuditLookup,
            input,
            |tx, _, (request, page)| {
                let term = request.term(tx.indexer)?;
                let (events, next_cursor) = page.cut(
                    lookup::searched_for(tx.conn, &term, &page)?,
                    super::store::position,
                );
                let items = shown(tx.conn, events)?;
                let mut event = tx
                    .event(Action::AuditLookup)
                    .entity(Entity::AuditLog, uuid::Uuid::nil())
                    .detail(format!("{}: {} events", term.kind, items.len()));
                for index in &term.indexes {
                    event = event.term(term.kind, index);
                }
                Ok((Page { items, next_cursor }, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
