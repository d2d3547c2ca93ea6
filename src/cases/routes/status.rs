//! A supervisor's status changes: close, reopen, erase.

use actix_web::{HttpResponse, post, web};

use crate::audit;
use crate::auth::guard::{Done, Tx};
use crate::auth::policy::Action;
use crate::cases::model::{CaseView, Reason};
use crate::cases::store::{self, CaseRow};
use crate::cases::{lifecycle, sealing};
use crate::domain::{CaseId, NonBlank};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::with_etag;

/// The case as the change left it, and the event that records the change.
fn changed(tx: &mut Tx<'_>, id: CaseId, event: audit::Action) -> Result<Done<CaseView>, ApiError> {
    let row = store::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
    let view = sealing::load_view(tx.conn, tx.keyring, &row)?;
    Ok((view, Some(tx.event_on(event, &row))))
}

fn reason(body: ApiJson<Reason>) -> Result<NonBlank, ApiError> {
    NonBlank::parse(body.0.reason).map_err(|e| e.at("reason").into())
}

/// Close a case (supervisor). The reason is kept encrypted with the case.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/close")]
pub async fn close_case(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<Reason>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act_with(
            Action::CaseClose,
            id.into_inner(),
            reason(body),
            |tx, case: CaseRow, reason| {
                lifecycle::close(tx.conn, tx.keyring, &case, &reason)?;
                changed(tx, case.id, audit::Action::CaseClose)
            },
        )
        .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Reopen a closed case (supervisor).
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 409, description = "Not closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/reopen")]
pub async fn reopen_case(ctx: Context, id: web::Path<CaseId>) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(Action::CaseReopen, id.into_inner(), |tx, case: CaseRow| {
            lifecycle::reopen(tx.conn, &case)?;
            changed(tx, case.id, audit::Action::CaseReopen)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Erase a person (supervisor): their data key is destroyed, so every field
/// of theirs is unreadable for good, and no search finds them. The case then
/// answers 410. The reason is not stored: it could name the person.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 410, description = "Already erased", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/erase")]
pub async fn erase_case(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<Reason>,
) -> Result<HttpResponse, ApiError> {
    ctx.act_with(
        Action::CaseErase,
        id.into_inner(),
        reason(body),
        |tx, case: CaseRow, _| {
            lifecycle::erase(tx.conn, &case, tx.principal.user_id)?;
            let event = tx.event_on(audit::Action::CaseErase, &case);
            Ok((
                (),
                Some(event.detail("erased by crypto-shredding; reason given, not stored")),
            ))
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
