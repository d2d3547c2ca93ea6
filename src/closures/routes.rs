//! `POST` and `GET /cases/{id}/closure-requests`,
//! `POST /closure-requests/{id}/{approve|return}`.

use actix_web::{HttpResponse, get, post, web};

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::{self, Action};
use crate::cases::row::CaseRow;
use crate::domain::{CaseId, ClosureRequestId, NonBlank};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::model::{ClosureRequest, ClosureRequestRow, CreateClosureRequest, ReturnClosure};
use super::store;

/// Ask for a case to be closed (a social worker or supervisor of its
/// city), with a reason and an optional note kept encrypted. A city
/// supervisor who did not ask then approves or returns it. 409 when the
/// case is closed, a request already waits, or the case has open
/// referrals (the detail names them: resolve them first).
#[utoipa::path(
    tag = "closure",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateClosureRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = ClosureRequest),
        (status = 409, description = "Closed already, a request waiting, or open referrals (named)", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/closure-requests")]
pub async fn request_closure(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateClosureRequest>,
) -> Result<HttpResponse, ApiError> {
    let CreateClosureRequest { reason, note } = body.0;
    let note = note
        .map(|n| NonBlank::parse(n).map_err(|e| e.at("note").into()))
        .transpose();
    let view = ctx
        .act_with(
            Action::ClosureRequest,
            id.into_inner(),
            note,
            move |tx, case: CaseRow, note| {
                let by = tx.principal.user_id;
                let row = store::request(tx.conn, tx.keyring, &case, reason, note.as_ref(), by)?;
                answer(tx, &row, audit::Action::ClosureRequest)
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A case's closure requests, newest first, with their notes.
#[utoipa::path(
    tag = "closure",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ClosureRequest>),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{id}/closure-requests")]
pub async fn list_closure_requests(
    ctx: Context,
    id: web::Path<CaseId>,
) -> Result<HttpResponse, ApiError> {
    let list = ctx
        .act(Action::ClosureRead, id.into_inner(), |tx, case: CaseRow| {
            let list = store::list(tx.conn, tx.keyring, &case)?;
            let event = tx
                .event_on(audit::Action::ClosureList, &case)
                .showing([case.id]);
            Ok((list, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Approve a pending closure request (a city supervisor of the case's city
/// who did not ask for it: their own is a 403, recorded): the case closes.
/// 409 when the request is no longer pending or the case has open
/// referrals (named).
#[utoipa::path(
    tag = "closure",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ClosureRequest),
        (status = 409, description = "Not pending, or open referrals (named)", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/closure-requests/{id}/approve")]
pub async fn approve_closure(
    ctx: Context,
    id: web::Path<ClosureRequestId>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(
            Action::ClosureDecide,
            id.into_inner(),
            |tx, row: ClosureRequestRow| {
                if policy::authorize_second_person(tx.principal, row.requested_by).is_err() {
                    return Ok(refused(tx, &row));
                }
                let row = store::approve(tx.conn, tx.keyring, &row, tx.principal.user_id)?;
                let (view, event) = answer(tx, &row, audit::Action::ClosureApprove)?;
                Ok((Ok(view), event))
            },
        )
        .await??;
    Ok(HttpResponse::Ok().json(view))
}

/// Return a pending closure request to the worker with a reason, kept
/// encrypted (a city supervisor of the case's city who did not ask for
/// it). The case stays open; the worker may ask again.
#[utoipa::path(
    tag = "closure",
    params(("id" = String, Path, format = Uuid)),
    request_body = ReturnClosure,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ClosureRequest),
        (status = 409, description = "Not pending", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/closure-requests/{id}/return")]
pub async fn return_closure(
    ctx: Context,
    id: web::Path<ClosureRequestId>,
    body: ApiJson<ReturnClosure>,
) -> Result<HttpResponse, ApiError> {
    let reason = NonBlank::parse(body.0.reason).map_err(|e| e.at("reason").into());
    let view = ctx
        .act_with(
            Action::ClosureDecide,
            id.into_inner(),
            reason,
            |tx, row: ClosureRequestRow, reason| {
                if policy::authorize_second_person(tx.principal, row.requested_by).is_err() {
                    return Ok(refused(tx, &row));
                }
                let by = tx.principal.user_id;
                let row = store::send_back(tx.conn, tx.keyring, &row, by, &reason)?;
                let (view, event) = answer(tx, &row, audit::Action::ClosureReturn)?;
                Ok((Ok(view), event))
            },
        )
        .await??;
    Ok(HttpResponse::Ok().json(view))
}

/// The request, decrypted, and the event that records `action` on it,
/// found under the person.
fn answer(
    tx: &mut Tx<'_>,
    row: &ClosureRequestRow,
    action: audit::Action,
) -> Result<(ClosureRequest, Option<audit::NewEvent>), ApiError> {
    let view = store::view(tx.conn, tx.keyring, row)?;
    let event = tx.event_on(action, row).showing([row.case_id]);
    Ok((view, Some(event)))
}

/// Nobody decides their own closure request: 403, with the refusal
/// committed to the audit log.
fn refused<T>(
    tx: &Tx<'_>,
    row: &ClosureRequestRow,
) -> (Result<T, ApiError>, Option<audit::NewEvent>) {
    let event = tx
        .denial()
        .entity(Entity::ClosureRequest, row.id.into())
        .city(row.city_id.as_uuid())
        .detail("decision on one's own closure request");
    (Err(ApiError::Forbidden), Some(event))
}
