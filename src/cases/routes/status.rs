//! A supervisor's status changes: close, reopen, erase.

use actix_web::{HttpResponse, post, web};

use crate::audit;
use crate::auth::policy::Action;
use crate::cases::model::{CaseView, Reason};
use crate::cases::row::CaseRow;
use crate::cases::{erasure, lifecycle};
use crate::closures::store as closures;
use crate::domain::{CaseId, NonBlank};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::{answer, with_etag};

fn reason(body: ApiJson<Reason>) -> Result<NonBlank, ApiError> {
    NonBlank::parse(body.0.reason).map_err(|e| e.at("reason").into())
}

/// Close a case directly (supervisor), recorded as a self-approved closure
/// request (`GET /cases/{id}/closure-requests`); a request waiting on the
/// case is approved with it. The reason is kept encrypted with the case.
/// 409 when already closed, or while the case has open referrals (the
/// detail names them).
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 409, description = "Already closed, or open referrals (named)", body = Problem, content_type = "application/problem+json"),
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
                let by = tx.principal.user_id;
                let request = closures::record_self_approved(tx.conn, &case, by)?;
                let (view, event) = answer(tx, case.id, audit::Action::CaseClose)?;
                let event =
                    event.map(|e| e.detail(format!("self-approved: closure request {request}")));
                Ok((view, event))
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
            answer(tx, case.id, audit::Action::CaseReopen)
        })
        .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Erase a person (supervisor): their data key is destroyed, so every field
/// of theirs is unreadable for good; their open referrals are cancelled;
/// their notes, transfers, blind indexes and household link are removed
/// (the household's label erased with its last member, or sealed again
/// without their names); only the coarse categories the statistics count
/// stay. The case then answers 410. The reason is not stored: it could name
/// the person.
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
    let db = ctx.database().clone();
    ctx.act_with(
        Action::CaseErase,
        id.into_inner(),
        reason(body),
        |tx, case: CaseRow, _| {
            let erased = erasure::erase(tx.conn, tx.keyring, &case, tx.principal.user_id)?;
            let household = match erased.household {
                None => "no household".to_string(),
                Some(label) => format!("household label {label:?}").to_lowercase(),
            };
            let event = tx
                .event_on(audit::Action::CaseErase, &case)
                .subjects(audit::SubjectKind::Referral, erased.referrals.iter().copied())
                .detail(format!(
                    "erased by crypto-shredding; reason given, not stored; {} open referral(s) cancelled; {household}",
                    erased.referrals.len()
                ));
            Ok(((), Some(event)))
        },
    )
    .await?;
    // The old page images of the person's row leave the SQLite WAL now
    // (`db::erasure`); on PostgreSQL `sanad vacuum` finishes the job.
    match db.run(crate::db::erasure::checkpoint).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "the WAL checkpoint after an erasure did not complete (a reader held it); run `sanad vacuum`"
        ),
        Err(err) => {
            tracing::warn!(error = %err, "the WAL checkpoint after an erasure failed; run `sanad vacuum`")
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
