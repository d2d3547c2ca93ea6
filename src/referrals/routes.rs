//! `POST /cases/{id}/referrals`, `GET /referrals`, `GET /referrals/{id}`,
//! `POST /referrals/{id}/{accept|decline|start|complete|cancel}`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource, Scope};
use crate::auth::trail::{self, Target};
use crate::cases::routes::load_authorized;
use crate::crypto::Keyring;
use crate::db::{AnyConnection, Database, write_transaction};
use crate::domain::{CaseId, time};
use crate::error::{ApiError, Problem};
use crate::web::extract::{self, ApiJson};
use crate::web::telemetry::RequestId;

use super::model::{
    ClosedReferral, CompleteReferral, CreateReferral, DecisionReason, Referral, ReferralQuery,
    ReferralRow, ReferralView,
};
use super::store::{self, ListFilter, TransitionInput};
use crate::domain::Transition;

fn event(
    principal: &Principal,
    request: &RequestId,
    action: audit::Action,
    row: &ReferralRow,
) -> Result<audit::NewEvent, ApiError> {
    let id = uuid::Uuid::parse_str(&row.id).map_err(ApiError::internal)?;
    Ok(trail::event(principal, request, action, Outcome::Success)
        .entity(Entity::Referral, id)
        .city(store::city(row)?.as_uuid()))
}

/// Loads a referral and asks the policy about it: held by its city,
/// addressed to its organisation, open or not.
fn load_for(
    conn: &mut AnyConnection,
    principal: &Principal,
    request: &RequestId,
    id: uuid::Uuid,
    action: Action,
) -> Result<ReferralRow, ApiError> {
    let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
    let city = store::city(&row)?;
    trail::authorize(
        conn,
        principal,
        request,
        action,
        Resource::Referral {
            city,
            organisation: store::organisation(&row)?,
            open: store::state(&row)?.is_open(),
        },
        Target {
            entity: Entity::Referral,
            id,
            city: Some(city),
        },
    )?;
    Ok(row)
}

/// The view this caller may have: the provider's minimal one when the
/// policy scopes them to an organisation (only the id, kind and state once
/// the referral is closed), the whole referral otherwise.
fn view_for(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    principal: &Principal,
    row: &ReferralRow,
) -> Result<ReferralView, ApiError> {
    match policy::scope(principal, Action::ReferralRead) {
        Scope::Organisation(_) if !store::state(row)?.is_open() => {
            Ok(ReferralView::Closed(ClosedReferral {
                id: row.id.clone(),
                kind: store::kind(row)?,
                state: store::state(row)?,
            }))
        }
        Scope::Organisation(_) => Ok(ReferralView::Minimal(store::provider_view(
            conn,
            keyring,
            row,
            time::today(),
        )?)),
        Scope::Cities(_) => Ok(ReferralView::Full(store::view(conn, keyring, row)?)),
        Scope::National | Scope::Nothing => Err(ApiError::Forbidden),
    }
}

/// Refer a case to a provider organisation of the same kind. The person
/// must have consented to sharing with providers.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateReferral,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Referral),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No consent to share with providers", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{id}/referrals")]
pub async fn create_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<CreateReferral>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::ReferralCreate, Resource::Collection)?;
    let id = id.into_inner();
    let input = body.0;
    let referral = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, Action::ReferralCreate)?;
            write_transaction(conn, |conn| {
                let case = crate::cases::store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let referral_id = store::create(
                    conn,
                    &keyring,
                    &case,
                    &input,
                    principal.user_id,
                    time::today(),
                )?;
                let row = store::find(conn, &referral_id)?.ok_or(ApiError::NotFound)?;
                audit::append(
                    conn,
                    &event(&principal, &request, audit::Action::ReferralCreate, &row)?,
                )?;
                store::view(conn, &keyring, &row)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(referral))
}

/// Referrals in the caller's reach: the referring cities' for social
/// workers and supervisors (newest first); the open referrals addressed to
/// their organisation for provider staff (pending first, then oldest
/// first), in the minimal view.
#[utoipa::path(
    tag = "referrals",
    params(ReferralQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<ReferralView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/referrals")]
pub async fn list_referrals(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::ReferralList, Resource::Collection)?;
    let query: ReferralQuery = extract::parse_query(&req)?;
    let overdue_before = query.overdue.unwrap_or(false).then(time::today);
    let mut filter = ListFilter {
        cities: None,
        organisation: None,
        open_only: false,
        state: query.status,
        kind: query.kind,
        organisation_id: query.organisation_id,
        overdue_before,
        inbox_order: false,
    };
    match policy::scope(&principal, Action::ReferralList) {
        Scope::Cities(cities) => filter.cities = Some(cities),
        Scope::Organisation(org) => {
            filter.organisation = Some(org);
            filter.open_only = true;
            filter.inbox_order = true;
        }
        Scope::National | Scope::Nothing => return Err(ApiError::Forbidden),
    }
    let list = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let items = store::list(conn, &filter)?
                    .iter()
                    .map(|row| view_for(conn, &keyring, &principal, row))
                    .collect::<Result<Vec<ReferralView>, ApiError>>()?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::ReferralList,
                        Outcome::Success,
                    )
                    .detail(format!("{} referrals", items.len())),
                )?;
                Ok(items)
            })
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
    responses(
        (status = 200, body = ReferralView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/referrals/{id}")]
pub async fn get_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::ReferralRead, Resource::Collection)?;
    let id = id.into_inner();
    let view = db
        .run(move |conn| {
            load_for(conn, &principal, &request, id, Action::ReferralRead)?;
            write_transaction(conn, |conn| {
                let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
                let view = view_for(conn, &keyring, &principal, &row)?;
                audit::append(
                    conn,
                    &event(&principal, &request, audit::Action::ReferralRead, &row)?,
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// One transition: the policy decides (a denial is audited), then the
/// conditional update and its audit event commit together.
async fn transition(
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    principal: Principal,
    request: RequestId,
    id: uuid::Uuid,
    step: Transition,
    input: OwnedInput,
) -> Result<HttpResponse, ApiError> {
    let action = match step {
        Transition::Cancel => Action::ReferralCancel,
        _ => Action::ReferralRespond,
    };
    policy::authorize(&principal, action, Resource::Collection)?;
    let view = db
        .run(move |conn| {
            load_for(conn, &principal, &request, id, action)?;
            write_transaction(conn, |conn| {
                let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
                let to = store::transition(
                    conn,
                    &keyring,
                    &row,
                    step,
                    principal.user_id,
                    &TransitionInput {
                        reason: input.reason.as_deref(),
                        outcome: input.outcome,
                        note: input.note.as_deref(),
                    },
                )?;
                audit::append(
                    conn,
                    &event(
                        &principal,
                        &request,
                        audit::Action::ReferralTransition,
                        &row,
                    )?
                    .detail(format!("{} -> {}", step.as_str(), to.as_str())),
                )?;
                let row = store::find(conn, &id.to_string())?.ok_or(ApiError::NotFound)?;
                // A provider that has just declined or completed a referral
                // gets its state only: its access to the person has ended.
                view_for(conn, &keyring, &principal, &row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Default)]
struct OwnedInput {
    reason: Option<String>,
    outcome: Option<crate::domain::referral::Outcome>,
    note: Option<String>,
}

/// Accept a pending referral (provider staff of its organisation). No body.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/accept")]
pub async fn accept_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let input = OwnedInput::default();
    transition(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Transition::Accept,
        input,
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
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/decline")]
pub async fn decline_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<DecisionReason>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let input = OwnedInput {
        reason: body.0.reason,
        ..OwnedInput::default()
    };
    transition(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Transition::Decline,
        input,
    )
    .await
}

/// Start an accepted referral (provider staff of its organisation). No body.
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReferralView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/start")]
pub async fn start_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let input = OwnedInput::default();
    transition(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Transition::Start,
        input,
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
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/complete")]
pub async fn complete_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<CompleteReferral>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = OwnedInput {
        outcome: Some(body.outcome),
        note: body.note,
        ..OwnedInput::default()
    };
    transition(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Transition::Complete,
        input,
    )
    .await
}

/// Cancel a referral that is still open (the referring city).
#[utoipa::path(
    tag = "referrals",
    params(("id" = String, Path, format = Uuid)),
    request_body = DecisionReason,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Referral),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current state", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/referrals/{id}/cancel")]
pub async fn cancel_referral(
    principal: Principal,
    request: RequestId,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<DecisionReason>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let input = OwnedInput {
        reason: body.0.reason,
        ..OwnedInput::default()
    };
    transition(
        db,
        keyring,
        principal,
        request,
        id.into_inner(),
        Transition::Cancel,
        input,
    )
    .await
}
