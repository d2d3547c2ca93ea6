//! A supervisor's status changes: close, reopen, erase.

use actix_web::http::header::ETAG;
use actix_web::{HttpResponse, post, web};

use crate::audit;
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::cases::model::{CaseView, Reason};
use crate::cases::store::{self, CaseRow};
use crate::cases::{data_keys, lifecycle};
use crate::crypto::Keyring;
use crate::db::{AnyConnection, Database};
use crate::domain::{CaseId, time};
use crate::error::{ApiError, Problem};
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::{case_event, etag, load_authorized};

/// Close a case (supervisor). The reason is kept encrypted with the case.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/close")]
pub async fn close_case(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<Reason>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseClose, Resource::Collection)?;
    let id = id.into_inner();
    let reason = body.0.reason;
    if reason.trim().is_empty() {
        return Err(ApiError::field("reason", "must not be blank"));
    }
    change_status(
        db,
        keyring,
        principal,
        request,
        id,
        Action::CaseClose,
        audit::Action::CaseClose,
        move |conn, keyring, row| lifecycle::close(conn, keyring, row, &reason),
    )
    .await
}

/// A supervisor's change of a case's status: the policy decides, `change`
/// runs in one transaction with the audit event, and the case comes back.
#[allow(clippy::too_many_arguments)]
async fn change_status<F>(
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    principal: Principal,
    request: RequestId,
    id: CaseId,
    action: Action,
    event: audit::Action,
    change: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection, &Keyring, &CaseRow) -> Result<(), ApiError> + Send + 'static,
{
    let view = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, action)?;
            crate::db::write_transaction(conn, |conn| {
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                change(conn, &keyring, &row)?;
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                audit::append(conn, &case_event(&principal, &request, event, &row)?)?;
                let person = data_keys::load(conn, &keyring, &row.id)?;
                store::view(&row, &person, time::today())
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// Reopen a closed case (supervisor).
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/reopen")]
pub async fn reopen_case(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseReopen, Resource::Collection)?;
    change_status(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Action::CaseReopen,
        audit::Action::CaseReopen,
        |conn, _, row| lifecycle::reopen(conn, row),
    )
    .await
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
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Already erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/erase")]
pub async fn erase_case(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<Reason>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseErase, Resource::Collection)?;
    let id = id.into_inner();
    if body.0.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "must not be blank"));
    }
    db.run(move |conn| {
        load_authorized(conn, &principal, &request, id, Action::CaseErase)?;
        crate::db::write_transaction(conn, |conn| {
            let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
            lifecycle::erase(conn, &row, principal.user_id)?;
            audit::append(
                conn,
                &case_event(&principal, &request, audit::Action::CaseErase, &row)?
                    .detail("erased by crypto-shredding; reason given, not stored"),
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
