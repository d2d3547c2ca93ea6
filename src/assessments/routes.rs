//! The assessment routes: instruments (read by everyone signed in,
//! published by admins), and a case's assessments (social workers and
//! supervisors of its city; reviewed or voided by a supervisor who did not
//! write them; never provider staff).

use actix_web::{HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::{self, Action};
use crate::cases::row::CaseRow;
use crate::domain::{AssessmentId, CaseId, InstrumentId, NonBlank, time};
use crate::error::{ApiError, Problem};
use crate::settings::AssessmentSettings;
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::instrument::Definition;
use super::instruments;
use super::model::{
    AssessmentList, AssessmentView, CreateAssessment, InstrumentSummary, InstrumentView,
    UpdateAnswers, VoidAssessment,
};
use super::store::{self, AssessmentRow};

/// Every published instrument version.
#[utoipa::path(
    tag = "assessments",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<InstrumentSummary>))
)]
#[get("/instruments")]
pub async fn list_instruments(ctx: Context) -> Result<HttpResponse, ApiError> {
    let list = ctx
        .on_collection(Action::InstrumentRead, Ok(()), |tx, _, ()| {
            let rows = instruments::all(tx.conn)?;
            let list = rows
                .iter()
                .map(instruments::InstrumentRow::summary)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((list, None))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One instrument version, whole: items, answers, values, weights, labels.
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = InstrumentView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[get("/instruments/{id}")]
pub async fn get_instrument(
    ctx: Context,
    id: web::Path<InstrumentId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = ctx
        .on_collection(Action::InstrumentRead, Ok(()), move |tx, _, ()| {
            let row = instruments::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
            Ok((row.view()?, None))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Publish a new version of an instrument (admins). It is checked whole —
/// the three dimensions, every item scored, weights summing to one, every
/// label in English, Arabic and Kurdish — and can never change after.
#[utoipa::path(
    tag = "assessments",
    request_body = Definition,
    security(("bearer" = [])),
    responses((status = 201, body = InstrumentView), (status = 409, body = Problem, content_type = "application/problem+json"))
)]
#[post("/instruments")]
pub async fn publish_instrument(
    ctx: Context,
    body: ApiJson<Definition>,
) -> Result<HttpResponse, ApiError> {
    let definition = body.0;
    let checked = definition
        .check()
        .map(|()| definition)
        .map_err(ApiError::Validation);
    let view = ctx
        .on_collection(Action::InstrumentPublish, checked, |tx, _, definition| {
            let row = instruments::publish(tx.conn, &definition, tx.principal.user_id)?;
            let event = tx
                .event(audit::Action::InstrumentPublish)
                .entity(Entity::Instrument, row.id.into())
                .detail(format!("{} version {}", row.code, row.version));
            Ok((row.view()?, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Start an assessment of a case: a draft, answered now or later. A case
/// has one baseline; a follow-up or exit needs it first.
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateAssessment,
    security(("bearer" = [])),
    responses(
        (status = 201, body = AssessmentView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/assessments")]
pub async fn create_assessment(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateAssessment>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let view = ctx
        .act(
            Action::AssessmentWrite,
            id.into_inner(),
            move |tx, case: CaseRow| {
                let row = store::create(
                    tx.conn,
                    tx.keyring,
                    &case,
                    input.instrument_id,
                    input.stage,
                    &input.answers,
                    tx.principal.user_id,
                )?;
                answer(tx, &row, audit::Action::AssessmentCreate)
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// A case's assessments, newest first, with their scores and change since
/// the baseline, and when the next follow-up falls due.
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = AssessmentList), (status = 410, body = Problem, content_type = "application/problem+json"))
)]
#[get("/cases/{id}/assessments")]
pub async fn list_assessments(
    ctx: Context,
    id: web::Path<CaseId>,
    settings: web::Data<AssessmentSettings>,
) -> Result<HttpResponse, ApiError> {
    let days = settings.follow_up_days;
    let list = ctx
        .act(
            Action::AssessmentRead,
            id.into_inner(),
            move |tx, case: CaseRow| {
                let list = store::list(tx.conn, &case, days, time::now().date())?;
                Ok((
                    list,
                    Some(tx.event_on(audit::Action::AssessmentList, &case)),
                ))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One assessment with its answers.
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = AssessmentView), (status = 410, body = Problem, content_type = "application/problem+json"))
)]
#[get("/assessments/{id}")]
pub async fn get_assessment(
    ctx: Context,
    id: web::Path<AssessmentId>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(
            Action::AssessmentRead,
            id.into_inner(),
            |tx, row: AssessmentRow| answer(tx, &row, audit::Action::AssessmentRead),
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Replace a draft's answers.
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateAnswers,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/assessments/{id}")]
pub async fn update_assessment(
    ctx: Context,
    id: web::Path<AssessmentId>,
    body: ApiJson<UpdateAnswers>,
) -> Result<HttpResponse, ApiError> {
    let answers = body.0.answers;
    let view = ctx
        .act(
            Action::AssessmentWrite,
            id.into_inner(),
            move |tx, row: AssessmentRow| {
                let row = store::update_answers(tx.conn, tx.keyring, &row, &answers)?;
                answer(tx, &row, audit::Action::AssessmentUpdate)
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Submit a draft: the server scores it (422 naming any required item left
/// unanswered).
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assessments/{id}/submit")]
pub async fn submit_assessment(
    ctx: Context,
    id: web::Path<AssessmentId>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(
            Action::AssessmentWrite,
            id.into_inner(),
            |tx, row: AssessmentRow| {
                let row = store::submit(tx.conn, tx.keyring, &row)?;
                answer(tx, &row, audit::Action::AssessmentSubmit)
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Review a submitted assessment (a city supervisor who did not write it;
/// its author is refused with 403, and the refusal recorded).
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assessments/{id}/review")]
pub async fn review_assessment(
    ctx: Context,
    id: web::Path<AssessmentId>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(
            Action::AssessmentReview,
            id.into_inner(),
            |tx, row: AssessmentRow| {
                if policy::authorize_second_person(tx.principal, row.author_id).is_err() {
                    return Ok(refused(tx, &row));
                }
                let row = store::review(tx.conn, &row, tx.principal.user_id)?;
                let (view, event) = answer(tx, &row, audit::Action::AssessmentReview)?;
                Ok((Ok(view), event))
            },
        )
        .await??;
    Ok(HttpResponse::Ok().json(view))
}

/// Void an assessment that should not count, with a reason (a city
/// supervisor who did not write it).
#[utoipa::path(
    tag = "assessments",
    params(("id" = String, Path, format = Uuid)),
    request_body = VoidAssessment,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AssessmentView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assessments/{id}/void")]
pub async fn void_assessment(
    ctx: Context,
    id: web::Path<AssessmentId>,
    body: ApiJson<VoidAssessment>,
) -> Result<HttpResponse, ApiError> {
    let reason = NonBlank::parse(body.0.reason).map_err(|e| e.at("reason").into());
    let view = ctx
        .act_with(
            Action::AssessmentReview,
            id.into_inner(),
            reason,
            |tx, row: AssessmentRow, reason| {
                if policy::authorize_second_person(tx.principal, row.author_id).is_err() {
                    return Ok(refused(tx, &row));
                }
                let by = tx.principal.user_id;
                let row = store::void(tx.conn, tx.keyring, &row, by, &reason)?;
                let (view, event) = answer(tx, &row, audit::Action::AssessmentVoid)?;
                Ok((Ok(view), event))
            },
        )
        .await??;
    Ok(HttpResponse::Ok().json(view))
}

/// The assessment, whole, and the event that records `action` on it.
fn answer(
    tx: &mut Tx<'_>,
    row: &AssessmentRow,
    action: audit::Action,
) -> Result<(AssessmentView, Option<audit::NewEvent>), ApiError> {
    let view = store::view_whole(tx.conn, tx.keyring, row)?;
    Ok((view, Some(tx.event_on(action, row).showing([row.case_id]))))
}

/// Nobody reviews or voids their own assessment: 403, with the refusal
/// committed to the audit log.
fn refused<T>(tx: &Tx<'_>, row: &AssessmentRow) -> (Result<T, ApiError>, Option<audit::NewEvent>) {
    let event = tx
        .denial()
        .entity(Entity::Assessment, row.id.into())
        .city(row.city_id.as_uuid())
        .detail("review or void of one's own assessment");
    (Err(ApiError::Forbidden), Some(event))
}
