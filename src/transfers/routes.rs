//! `POST /cases/{id}/transfers`, `GET /transfers`,
//! `POST /transfers/{id}/{accept|reject|cancel}`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;

use crate::audit;
use crate::auth::guard::{Done, Tx};
use crate::auth::policy::{Action, Scope};
use crate::domain::{CaseId, TransferId, TransferStatus};
use crate::error::{ApiError, Problem};
use crate::pagination::Page;
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::model::{
    CreateTransfer, RejectTransfer, Transfer, TransferPage, TransferQuery, TransferRow,
};
use super::store;

/// Ask to move a case (and optionally its whole household) to another city.
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateTransfer,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Transfer),
        (status = 409, description = "A transfer is already pending", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/transfers")]
pub async fn create_transfer(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateTransfer>,
) -> Result<HttpResponse, ApiError> {
    let transfer = body.0.parse();
    let view = ctx
        .act_with(
            Action::TransferCreate,
            id.into_inner(),
            transfer,
            |tx, case, new| {
                let row = store::create(tx.conn, tx.keyring, &case, &new, tx.principal.user_id)?;
                let view = store::view(tx.conn, tx.keyring, &row)?;
                let event = tx.event_on(audit::Action::TransferCreate, &row);
                Ok((view, Some(event.showing([row.case_id]))))
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Transfers into or out of the caller's cities, newest first, a page at a
/// time; recorded with the people the page showed (each transfer's reasons
/// are opened).
#[utoipa::path(
    tag = "transfers",
    params(TransferQuery),
    security(("bearer" = [])),
    responses((status = 200, body = TransferPage))
)]
#[get("/transfers")]
pub async fn list_transfers(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let input = extract::parse_query::<TransferQuery>(&req).and_then(|query| {
        let page = ctx.page::<NaiveDateTime>(query.limit, query.cursor.as_deref())?;
        Ok((query, page))
    });
    let list = ctx
        .on_collection(Action::TransferList, input, |tx, scope, (query, page)| {
            let Scope::Cities(cities) = scope else {
                return Err(ApiError::Forbidden);
            };
            let rows = store::list(tx.conn, &cities, query.direction, query.status, &page)?;
            let (rows, next_cursor) = page.cut(rows, store::position);
            let items = store::views(tx.conn, tx.keyring, &rows)?;
            let event = tx
                .event(audit::Action::TransferList)
                .showing(rows.iter().map(|row| row.case_id))
                .detail(format!("{} transfers", items.len()));
            Ok((Page { items, next_cursor }, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Ends a pending transfer as `action` allows (the receiving city decides,
/// the sending city cancels): the status changes (an accepted transfer also
/// moves the case), the event is appended, and the transfer comes back.
async fn decide(
    ctx: Context,
    id: TransferId,
    action: Action,
    status: TransferStatus,
    reason: Option<String>,
    event: audit::Action,
) -> Result<HttpResponse, ApiError> {
    let transfer = ctx
        .act(action, id, move |tx, row| {
            ended(tx, row, status, reason, event)
        })
        .await?;
    Ok(HttpResponse::Ok().json(transfer))
}

/// The transfer ended: its status changed, the case moved if accepted.
fn ended(
    tx: &mut Tx<'_>,
    row: TransferRow,
    status: TransferStatus,
    reason: Option<String>,
    event: audit::Action,
) -> Result<Done<Transfer>, ApiError> {
    let by = tx.principal.user_id;
    store::decide(tx.conn, tx.keyring, &row, status, by, reason.as_deref())?;
    let mut event = tx.event_on(event, &row).showing([row.case_id]);
    if status == TransferStatus::Accepted {
        let moved = store::carry_out(tx.conn, tx.keyring, &row)?;
        event = event
            .detail(format!("{} case(s) moved", moved.len()))
            .showing(moved);
    }
    let row = store::find(tx.conn, row.id)?.ok_or(ApiError::NotFound)?;
    Ok((store::view(tx.conn, tx.keyring, &row)?, Some(event)))
}

/// Accept an incoming transfer (a supervisor of the receiving city): the
/// case moves, re-encrypted for the new city.
#[utoipa::path(
    tag = "transfers",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Transfer),
        (status = 409, description = "No longer pending", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The person has been erased", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/accept")]
pub async fn accept_transfer(
    ctx: Context,
    id: web::Path<TransferId>,
) -> Result<HttpResponse, ApiError> {
    let accepted = TransferStatus::Accepted;
    decide(
        ctx,
        id.into_inner(),
        Action::TransferDecide,
        accepted,
        None,
        audit::Action::TransferAccept,
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
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The person has been erased", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/reject")]
pub async fn reject_transfer(
    ctx: Context,
    id: web::Path<TransferId>,
    body: ApiJson<RejectTransfer>,
) -> Result<HttpResponse, ApiError> {
    let (rejected, reason) = (TransferStatus::Rejected, Some(body.0.reason));
    decide(
        ctx,
        id.into_inner(),
        Action::TransferDecide,
        rejected,
        reason,
        audit::Action::TransferReject,
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
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/transfers/{id}/cancel")]
pub async fn cancel_transfer(
    ctx: Context,
    id: web::Path<TransferId>,
) -> Result<HttpResponse, ApiError> {
    let cancelled = TransferStatus::Cancelled;
    decide(
        ctx,
        id.into_inner(),
        Action::TransferCancel,
        cancelled,
        None,
        audit::Action::TransferCancel,
    )
    .await
}
