//! `POST /cases/{id}/referrals`, `GET /referrals`, `GET /referrals/{id}`,
//! `POST /referrals/{id}/{accept|decline|start|complete|cancel}`,
//! `POST` and `GET /referrals/{id}/updates`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::audit;
use crate::auth::guard::{Done, Tx};
use crate::auth::policy::Action;
use crate::cases::row::CaseRow;
use crate::domain::{CaseId, NonBlank, ReferralId, ReferralState, Transition, time};
use crate::error::{ApiError, Problem};
use crate::pagination::Page;
use crate::settings::FollowUpSettings;
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::machine::{self, TransitionInput};
use super::model::{
    CompleteReferral, CreateReferral, DecisionReason, Referral, ReferralPage, ReferralQuery,
    ReferralRow, ReferralView,
};
use super::store::{self, ListFilter, ListKey};
use super::updates::{self, CreateReferralUpdate, ReferralUpdate};
use super::views::{view, view_for, views_for};

/// Refer a case to a provider organisation of the same kind. The person
/// must have consented to sharing with providers.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateReferral,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Referral),
        (status = 409, description = "No consent to share with providers", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/referrals")]
pub async fn create_referral(
    ctx: Context,
    id: web::Path<CaseId>,
    body: ApiJson<CreateReferral>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let referral = ctx
        .act(
            Action::ReferralCreate,
            id.into_inner(),
            move |tx, case: CaseRow| {
                let referral = store::parse(tx.conn, input, time::today())?;
                let row =
                    store::create(tx.conn, tx.keyring, &case, &referral, tx.principal.user_id)?;
                let view = view(tx.conn, tx.keyring, &row)?;
                let event = tx.event_on(audit::Action::ReferralCreate, &row);
                Ok((view, Some(event.showing([row.case_id]))))
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(referral))
}

/// Referrals in the caller's reach, a page at a time: the referring
/// cities' for social workers and supervisors (newest first); the open
/// referrals addressed to their organisation for provider staff (pending
/// first, then oldest first), in the minimal view. Recorded with the people
/// the page showed.
#[utoipa::path(
    tag = "referrals",
    params(ReferralQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ReferralPage))
)]
#[get("/referrals")]
pub async fn list_referrals(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let input = extract::parse_query::<ReferralQuery>(&req).and_then(|query| {
        let page = ctx.page::<ListKey>(query.limit, query.cursor.as_deref())?;
        Ok((query, page))
    });
    let list = ctx
        .on_collection(Action::ReferralList, input, |tx, scope, (query, page)| {
            let filter = ListFilter::within(scope, query, time::today())?;
            let rows = store::list(tx.conn, &filter, &page)?;
            let (rows, next_cursor) = page.cut(rows, |row| store::position(row, &filter));
            let items = views_for(tx.conn, tx.keyring, tx.principal, &rows)?;
            let shown = rows
                .iter()
                .zip(&items)
                .filter(|(_, view)| view.shows_person());
            let event = tx
                .event(audit::Action::ReferralList)
                .showing(shown.map(|(row, _)| row.case_id))
                .detail(format!("{} referrals", items.len()));
            Ok((Page { items, next_cursor }, Some(event)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One referral: whole for the referring city; the minimal view for the
/// provider, and only while it is open (404 once declined, completed or
/// cancelled).
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = ReferralView))
)]
#[get("/referrals/{id}")]
pub async fn get_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
) -> Result<HttpResponse, ApiError> {
    let view = ctx
        .act(
            Action::ReferralRead,
            id.into_inner(),
            |tx, row: ReferralRow| {
                let view = view_for(tx.conn, tx.keyring, tx.principal, &row)?;
                let event = showing(tx.event_on(audit::Action::ReferralRead, &row), &row, &view);
                Ok((view, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// One step of the state machine: a conditional update and its audit
/// event, then the referral as the caller may now see it (a provider that
/// has just declined or completed one gets its state only: its access to
/// the person has ended).
async fn step(
    ctx: Context,
    id: ReferralId,
    step: Transition,
    input: TransitionInput,
) -> Result<HttpResponse, ApiError> {
    step_then_check(ctx, id, step, input, None).await
}

/// [`step`], scheduling the system's referral check `check_days` after a
/// referral is completed or declined (`follow_ups.referral_check_days`).
async fn step_then_check(
    ctx: Context,
    id: ReferralId,
    step: Transition,
    input: TransitionInput,
    check_days: Option<u32>,
) -> Result<HttpResponse, ApiError> {
    let action = match step {
        Transition::Cancel => Action::ReferralCancel,
        _ => Action::ReferralRespond,
    };
    let view = ctx
        .act(action, id, move |tx, row| {
            stepped(tx, row, step, &input, check_days)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn stepped(
    tx: &mut Tx<'_>,
    row: ReferralRow,
    step: Transition,
    input: &TransitionInput,
    check_days: Option<u32>,
) -> Result<Done<ReferralView>, ApiError> {
    let by = tx.principal.user_id;
    let to = machine::transition(tx.conn, tx.keyring, &row, step, by, input)?;
    let event = tx.event_on(audit::Action::ReferralTransition, &row);
    let mut detail = format!("{} -> {}", step.as_str(), to.as_str());
    if let Some(days) = check_days
        && matches!(to, ReferralState::Completed | ReferralState::Declined)
    {
        let case = crate::cases::row::find(tx.conn, row.case_id)?.ok_or(ApiError::NotFound)?;
        let check = crate::follow_ups::store::schedule_referral_check(
            tx.conn,
            &case,
            row.id,
            row.created_by,
            days,
        )?;
        detail.push_str(&format!("; referral check {} scheduled", check.id));
    }
    let event = event.detail(detail);
    let row = store::find(tx.conn, row.id)?.ok_or(ApiError::NotFound)?;
    let view = view_for(tx.conn, tx.keyring, tx.principal, &row)?;
    let event = showing(event, &row, &view);
    Ok((view, Some(event)))
}

/// The event of an answer that carries `view`: it names the person when
/// the view shows them.
fn showing(event: audit::NewEvent, row: &ReferralRow, view: &ReferralView) -> audit::NewEvent {
    match view.shows_person() {
        true => event.showing([row.case_id]),
        false => event,
    }
}

/// Accept a pending referral (provider staff of its organisation). No body.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/accept")]
pub async fn accept_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
) -> Result<HttpResponse, ApiError> {
    step(
        ctx,
        id.into_inner(),
        Transition::Accept,
        TransitionInput::default(),
    )
    .await
}

/// Decline a pending referral (provider staff of its organisation).
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = DecisionReason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/decline")]
pub async fn decline_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
    body: ApiJson<DecisionReason>,
    settings: web::Data<FollowUpSettings>,
) -> Result<HttpResponse, ApiError> {
    let input = TransitionInput {
        reason: body.0.reason,
        ..TransitionInput::default()
    };
    let days = Some(settings.referral_check_days);
    step_then_check(ctx, id.into_inner(), Transition::Decline, input, days).await
}

/// Start an accepted referral (provider staff of its organisation). No body.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/start")]
pub async fn start_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
) -> Result<HttpResponse, ApiError> {
    step(
        ctx,
        id.into_inner(),
        Transition::Start,
        TransitionInput::default(),
    )
    .await
}

/// Complete a referral in progress, with its outcome (provider staff of its
/// organisation). The note is kept encrypted with the case.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = CompleteReferral,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/complete")]
pub async fn complete_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
    body: ApiJson<CompleteReferral>,
    settings: web::Data<FollowUpSettings>,
) -> Result<HttpResponse, ApiError> {
    let CompleteReferral { outcome, note } = body.0;
    let input = TransitionInput {
        outcome: Some(outcome),
        note,
        ..TransitionInput::default()
    };
    let days = Some(settings.referral_check_days);
    step_then_check(ctx, id.into_inner(), Transition::Complete, input, days).await
}

/// Cancel a referral that is still open (the referring city).
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = DecisionReason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Referral),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/cancel")]
pub async fn cancel_referral(
    ctx: Context,
    id: web::Path<ReferralId>,
    body: ApiJson<DecisionReason>,
) -> Result<HttpResponse, ApiError> {
    let input = TransitionInput {
        reason: body.0.reason,
        ..TransitionInput::default()
    };
    step(ctx, id.into_inner(), Transition::Cancel, input).await
}

/// Post a progress update on a referral in progress (provider staff of its
/// organisation): a short note, kept encrypted with the case. Only while
/// the referral is `in_progress` (409 otherwise; `pending`, `accepted`,
/// `completed`, `declined` and `cancelled` take none).
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateReferralUpdate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = ReferralUpdate),
        (status = 409, description = "The referral is not in progress", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/updates")]
pub async fn post_update(
    ctx: Context,
    id: web::Path<ReferralId>,
    body: ApiJson<CreateReferralUpdate>,
) -> Result<HttpResponse, ApiError> {
    let note = NonBlank::parse(body.0.note).map_err(|e| e.at("note").into());
    let update = ctx
        .act_with(
            Action::ReferralProgress,
            id.into_inner(),
            note,
            |tx, row: ReferralRow, note| {
                let update = updates::add(tx.conn, tx.keyring, &row, &note, tx.principal.user_id)?;
                let event = tx
                    .event_on(audit::Action::ReferralProgress, &row)
                    .showing([row.case_id]);
                Ok((update, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(update))
}

/// A referral's progress updates, oldest first: for the referring city,
/// and for the provider while the referral is open.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ReferralUpdate>),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/referrals/{id}/updates")]
pub async fn list_updates(
    ctx: Context,
    id: web::Path<ReferralId>,
) -> Result<HttpResponse, ApiError> {
    let list = ctx
        .act(
            Action::ReferralRead,
            id.into_inner(),
            |tx, row: ReferralRow| {
                let list = updates::list(tx.conn, tx.keyring, &row)?;
                let event = tx
                    .event_on(audit::Action::ReferralProgressList, &row)
                    .showing([row.case_id])
                    .detail(format!("{} updates", list.len()));
                Ok((list, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
