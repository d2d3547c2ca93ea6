//! `POST` and `GET /cases/{id}/follow-ups`, `PATCH /follow-ups/{id}`.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::audit;
use crate::auth::policy::Action;
use crate::cases::row::CaseRow;
use crate::domain::{CaseId, FollowUpId, NonBlank};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::model::{CreateFollowUp, FollowUp, FollowUpRow, UpdateFollowUp};
use super::store::{self, Change};

/// Schedule a contact with the person: a home visit, a phone call, a
/// referral check or an assessment that falls due, with a due date and a
/// worker of the case's city (the caller unless named). It starts
/// `scheduled`; `PATCH /follow-ups/{id}` ends it as `done`, `missed` or
/// `cancelled`.
#[utoipa::path(
    tag = "follow-ups",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateFollowUp,
    security(("bearer" = [])),
    responses(
        (status = 201, body = FollowUp),
        (status = 409, description = "The case is closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/follow-ups")]
pub async fn schedule_follow_up(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateFollowUp>,
) -> Result<HttpResponse, ApiError> {
    let CreateFollowUp {
        kind,
        due_on,
        assigned_to,
    } = body.0;
    let view = ctx
        .act(
            Action::FollowUpWrite,
            id.into_inner(),
            move |tx, case: CaseRow| {
                let by = tx.principal.user_id;
                let assignee = assigned_to.unwrap_or(by);
                let row = store::schedule(tx.conn, &case, kind, due_on, assignee, by)?;
                let view = store::view(tx.conn, tx.keyring, &row)?;
                let event = tx
                    .event_on(audit::Action::FollowUpCreate, &row)
                    .showing([case.id])
                    .detail(kind.as_str());
                Ok((view, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A case's follow-ups, soonest due first, with their notes.
#[utoipa::path(
    tag = "follow-ups",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<FollowUp>),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{id}/follow-ups")]
pub async fn list_follow_ups(
    ctx: Context,
    id: web::Path<CaseId>,
) -> Result<HttpResponse, ApiError> {
    let list = ctx
        .act(
            Action::FollowUpRead,
            id.into_inner(),
            |tx, case: CaseRow| {
                let list = store::list(tx.conn, tx.keyring, &case)?;
                let event = tx
                    .event_on(audit::Action::FollowUpList, &case)
                    .showing([case.id]);
                Ok((list, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Record how a scheduled follow-up went (`status`: `done`, with an
/// optional note kept encrypted, `missed` or `cancelled`), or reschedule
/// it (`due_on`, `assigned_to`). State machine: `scheduled` → `done` |
/// `missed` | `cancelled`; an ended follow-up does not change (409).
#[utoipa::path(
    tag = "follow-ups",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateFollowUp,
    security(("bearer" = [])),
    responses(
        (status = 200, body = FollowUp),
        (status = 409, description = "Already done, missed or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/follow-ups/{id}")]
pub async fn update_follow_up(
    ctx: Context,
    id: web::Path<FollowUpId>,
    body: ApiJson<UpdateFollowUp>,
) -> Result<HttpResponse, ApiError> {
    let UpdateFollowUp {
        status,
        note,
        due_on,
        assigned_to,
    } = body.0;
    let change = note
        .map(|n| NonBlank::parse(n).map_err(|e| e.at("note").into()))
        .transpose()
        .map(|note| Change {
            status,
            note,
            due_on,
            assigned_to,
        });
    let view = ctx
        .act_with(
            Action::FollowUpWrite,
            id.into_inner(),
            change,
            |tx, row: FollowUpRow, change| {
                let by = tx.principal.user_id;
                let row = store::change(tx.conn, tx.keyring, &row, &change, by)?;
                let view = store::view(tx.conn, tx.keyring, &row)?;
                let event = tx
                    .event_on(audit::Action::FollowUpUpdate, &row)
                    .showing([row.case_id])
                    .detail(row.status.as_str());
                Ok((view, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
