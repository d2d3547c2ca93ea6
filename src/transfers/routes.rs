//! `POST /cases/{id}/transfers`, `GET /transfers`,
//! `POST /transfers/{id}/{accept|reject|cancel}`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource, Scope};
use crate::auth::trail::{self, Target};
use crate::cases::routes::load_authorized;
use crate::crypto::Keyring;
use crate::db::{AnyConnection, Database, write_transaction};
use crate::domain::{CaseId, TransferStatus};
use crate::error::{ApiError, Problem};
use crate::web::extract::{self, ApiJson};
use crate::web::telemetry::RequestId;

use super::model::{CreateTransfer, RejectTransfer, Transfer, TransferQuery, TransferRow};
use super::store;

fn event(
    principal: &Principal,
    request: &RequestId,
    action: audit::Action,
    row: &TransferRow,
) -> Result<audit::NewEvent, ApiError> {
    let id = uuid::Uuid::parse_str(&row.id).map_err(ApiError::internal)?;
    Ok(trail::event(principal, request, action, Outcome::Success)
        .entity(Entity::Transfer, id)
        .city(store::city(&row.from_city_id)?.as_uuid()))
}

/// Loads a transfer and asks the policy about the city that decides it.
fn load_for(
    conn: &mut AnyConnection,
    principal: &Principal,
    request: &RequestId,
    id: uuid::Uuid,
    action: Action,
    receiving_side: bool,
) -> Result<TransferRow, ApiError> {
    let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
    let city = store::city(if receiving_side {
        &row.to_city_id
    } else {
        &row.from_city_id
    })?;
    trail::authorize(
        conn,
        principal,
        request,
        action,
        Resource::City(city),
        Target {
            entity: Entity::Transfer,
            id,
            city: Some(city),
        },
    )?;
    Ok(row)
}

/// Ask to move a case (and optionally its whole household) to another city.
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateTransfer,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Transfer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A transfer is already pending", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/transfers")]
pub async fn create_transfer(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<CreateTransfer>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::TransferCreate, Resource::Collection)?;
    let id = id.into_inner();
    let input = body.0;
    if input.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "must not be blank"));
    }
    let transfer = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, Action::TransferCreate)?;
            write_transaction(conn, |conn| {
                let case = crate::cases::store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let transfer_id = store::create(
                    conn,
                    &keyring,
                    &case,
                    input.to_city_id,
                    input.with_household,
                    &input.reason,
                    principal.user_id,
                )?;
                let row = store::find(conn, &transfer_id)?.ok_or(ApiError::NotFound)?;
                audit::append(
                    conn,
                    &event(&principal, &request, audit::Action::TransferCreate, &row)?,
                )?;
                store::view(conn, &keyring, &row)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(transfer))
}

/// Transfers into or out of the caller's cities, newest first.
#[utoipa::path(
    tag = "transfers",
    params(TransferQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Transfer>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/transfers")]
pub async fn list_transfers(
    req: HttpRequest,
    principal: Principal,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::TransferList, Resource::Collection)?;
    let query: TransferQuery = extract::parse_query(&req)?;
    let Scope::Cities(cities) = policy::scope(&principal, Action::TransferList) else {
        return Err(ApiError::Forbidden);
    };
    let list = db
        .run(move |conn| {
            store::list(conn, &cities, query.direction, query.status)?
                .iter()
                .map(|row| store::view(conn, &keyring, row))
                .collect::<Result<Vec<Transfer>, ApiError>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// How a pending transfer ends, and who may end it that way.
struct Decision {
    action: Action,
    /// Whether the receiving city decides (accept, reject) or the sender (cancel).
    receiving_side: bool,
    status: TransferStatus,
    reason: Option<String>,
    event: audit::Action,
}

/// Ends a pending transfer: the policy decides on the deciding city, then
/// in one transaction the status changes (an accepted transfer also moves
/// the case), the event is appended, and the transfer comes back.
async fn decide(
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    principal: Principal,
    request: RequestId,
    id: uuid::Uuid,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, decision.action, Resource::Collection)?;
    let transfer = db
        .run(move |conn| {
            load_for(
                conn,
                &principal,
                &request,
                id,
                decision.action,
                decision.receiving_side,
            )?;
            write_transaction(conn, |conn| {
                let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
                store::decide(
                    conn,
                    &keyring,
                    &row,
                    decision.status,
                    principal.user_id,
                    decision.reason.as_deref(),
                )?;
                let mut event = event(&principal, &request, decision.event, &row)?;
                if decision.status == TransferStatus::Accepted {
                    let moved = store::carry_out(conn, &keyring, &row)?;
                    event = event.detail(format!("{} case(s) moved", moved.len()));
                }
                audit::append(conn, &event)?;
                let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
                store::view(conn, &keyring, &row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(transfer))
}

/// Accept an incoming transfer (a supervisor of the receiving city): the
/// case moves, re-encrypted for the new city.
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Transfer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer pending", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The person has been erased", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/accept")]
pub async fn accept_transfer(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    decide(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Decision {
            action: Action::TransferDecide,
            receiving_side: true,
            status: TransferStatus::Accepted,
            reason: None,
            event: audit::Action::TransferAccept,
        },
    )
    .await
}

/// Reject an incoming transfer (a supervisor of the receiving city).
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    request_body = RejectTransfer,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Transfer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The person has been erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/reject")]
pub async fn reject_transfer(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<RejectTransfer>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    decide(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Decision {
            action: Action::TransferDecide,
            receiving_side: true,
            status: TransferStatus::Rejected,
            reason: Some(body.0.reason),
            event: audit::Action::TransferReject,
        },
    )
    .await
}

/// Cancel an outgoing transfer (the sending city).
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Transfer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/cancel")]
pub async fn cancel_transfer(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    decide(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Decision {
            action: Action::TransferCancel,
            receiving_side: false,
            status: TransferStatus::Cancelled,
            reason: None,
            event: audit::Action::TransferCancel,
        },
    )
    .await
}
