//! `POST` and `GET /cases/{id}/plans`,
//! `POST /plans/{id}/{submit|approve|return|revise}`,
//! `PATCH /plans/{id}/actions/{action_id}`.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::{self, Action};
use crate::cases::row::{self as cases, CaseRow};
use crate::domain::{CaseId, NonBlank, PlanActionId, PlanId, PlanStatus};
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::model::{CreatePlan, Plan, PlanRow, ReturnPlan, UpdateAction};
use super::store;

/// Draft a plan for a case: goals by dimension (economic, social,
/// psychosocial, education, protection), each with actions (an optional
/// referral of the case, a target date; each starts `planned`). Goal and
/// action text is kept encrypted. State machine of a version: `draft` →
/// `submitted` → `approved` (the case's one active plan) | `returned`;
/// `revise` drafts the next version, and an approved revision supersedes
/// the version before it. 409 when a version is already a draft or under
/// review, or the case is closed.
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreatePlan,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Plan),
        (status = 409, description = "A version is a draft or under review, or the case is closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/plans")]
pub async fn create_plan(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreatePlan>,
) -> Result<HttpResponse, ApiError> {
    let goals = body.0.goals;
    let plan = ctx
        .act(
            Action::PlanWrite,
            id.into_inner(),
            move |tx, case: CaseRow| {
                let by = tx.principal.user_id;
                let row = store::draft(tx.conn, tx.keyring, &case, goals, None, by)?;
                answer(tx, &row, audit::Action::PlanCreate)
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(plan))
}

/// A case's plan versions, newest first, with their goals and actions.
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Plan>),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{id}/plans")]
pub async fn list_plans(ctx: Context, id: web::Path<CaseId>) -> Result<HttpResponse, ApiError> {
    let list = ctx
        .act(Action::PlanRead, id.into_inner(), |tx, case: CaseRow| {
            let list = store::list(tx.conn, tx.keyring, &case)?;
            let event = tx
                .event_on(audit::Action::PlanList, &case)
                .showing([case.id]);
            Ok((list, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Submit a draft for approval (`draft` → `submitted`).
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Plan),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{id}/submit")]
pub async fn submit_plan(ctx: Context, id: web::Path<PlanId>) -> Result<HttpResponse, ApiError> {
    let plan = ctx
        .act(Action::PlanWrite, id.into_inner(), |tx, row: PlanRow| {
            let row = store::submit(tx.conn, &row)?;
            answer(tx, &row, audit::Action::PlanSubmit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Approve a submitted version (a city supervisor of the case's city who
/// is not its author: the author gets 403, recorded): it becomes the
/// case's active plan, and the version active before it is superseded.
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Plan),
        (status = 409, description = "Not submitted", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{id}/approve")]
pub async fn approve_plan(ctx: Context, id: web::Path<PlanId>) -> Result<HttpResponse, ApiError> {
    let plan = ctx
        .act(Action::PlanDecide, id.into_inner(), |tx, row: PlanRow| {
            if policy::authorize_second_person(tx.principal, row.author_id).is_err() {
                return Ok(refused(tx, &row));
            }
            let row = store::approve(tx.conn, &row, tx.principal.user_id)?;
            let (plan, event) = answer(tx, &row, audit::Action::PlanApprove)?;
            Ok((Ok(plan), event))
        })
        .await??;
    Ok(HttpResponse::Ok().json(plan))
}

/// Return a submitted version to its author with a reason (kept
/// encrypted; a city supervisor who is not its author).
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    request_body = ReturnPlan,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Plan),
        (status = 409, description = "Not submitted", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{id}/return")]
pub async fn return_plan(
    ctx: Context,
    id: web::Path<PlanId>,
    body: ApiJson<ReturnPlan>,
) -> Result<HttpResponse, ApiError> {
    let reason = NonBlank::parse(body.0.reason).map_err(|e| e.at("reason").into());
    let plan = ctx
        .act_with(
            Action::PlanDecide,
            id.into_inner(),
            reason,
            |tx, row: PlanRow, reason| {
                if policy::authorize_second_person(tx.principal, row.author_id).is_err() {
                    return Ok(refused(tx, &row));
                }
                let by = tx.principal.user_id;
                let row = store::send_back(tx.conn, tx.keyring, &row, by, &reason)?;
                let (plan, event) = answer(tx, &row, audit::Action::PlanReturn)?;
                Ok((Ok(plan), event))
            },
        )
        .await??;
    Ok(HttpResponse::Ok().json(plan))
}

/// Draft the next version from an approved or returned one (its goals and
/// actions copied); it goes through approval again. The version revised
/// stays, read-only, with its approver.
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 201, body = Plan),
        (status = 409, description = "Not approved or returned, or a version is already a draft or under review", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{id}/revise")]
pub async fn revise_plan(ctx: Context, id: web::Path<PlanId>) -> Result<HttpResponse, ApiError> {
    let plan = ctx
        .act(Action::PlanWrite, id.into_inner(), |tx, row: PlanRow| {
            if !matches!(row.status, PlanStatus::Approved | PlanStatus::Returned) {
                let state = row.status.as_str();
                return Err(ApiError::Conflict(format!(
                    "The plan is {state}: only an approved or returned version is revised."
                )));
            }
            let case = cases::find(tx.conn, row.case_id)?.ok_or(ApiError::NotFound)?;
            let goals = store::goals_of(tx.conn, tx.keyring, &row)?;
            let by = tx.principal.user_id;
            let draft = store::draft(tx.conn, tx.keyring, &case, goals, Some(row.id), by)?;
            answer(tx, &draft, audit::Action::PlanCreate)
        })
        .await?;
    Ok(HttpResponse::Created().json(plan))
}

/// Move an action of the active plan along: `planned` → `in_progress` →
/// `done` | `dropped` (a planned one may be done or dropped at once).
#[utoipa::path(
    tag = "plans",
    params(
        ("id" = String, Path, format = Uuid),
        ("action_id" = String, Path, format = Uuid),
    ),
    request_body = UpdateAction,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Plan),
        (status = 409, description = "Not the active plan, or not allowed from the action's state", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/plans/{id}/actions/{action_id}")]
pub async fn update_action(
    ctx: Context,
    path: web::Path<(PlanId, PlanActionId)>,
    body: ApiJson<UpdateAction>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let to = body.0.status;
    let plan = ctx
        .act(Action::PlanWrite, id, move |tx, row: PlanRow| {
            store::move_action(tx.conn, &row, action, to)?;
            let (plan, event) = answer(tx, &row, audit::Action::PlanActionUpdate)?;
            Ok((plan, event.map(|e| e.detail(to.as_str()))))
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}

fn answer(
    tx: &mut Tx<'_>,
    row: &PlanRow,
    action: audit::Action,
) -> Result<(Plan, Option<audit::NewEvent>), ApiError> {
    let plan = store::view(tx.conn, tx.keyring, row)?;
    let event = tx.event_on(action, row).showing([row.case_id]);
    Ok((plan, Some(event)))
}

/// Nobody approves or returns their own plan: 403, recorded.
fn refused<T>(tx: &Tx<'_>, row: &PlanRow) -> (Result<T, ApiError>, Option<audit::NewEvent>) {
    let event = tx
        .denial()
        .entity(Entity::Plan, row.id.into())
        .city(row.city_id.as_uuid())
        .detail("decision on one's own plan");
    (Err(ApiError::Forbidden), Some(event))
}
