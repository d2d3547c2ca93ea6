//! `POST /households`, `GET /households/{id}`, `POST /households/{id}/referrals`.

use actix_web::{HttpResponse, get, post, web};

use crate::audit::{self, Entity};
use crate::auth::policy::Action;
use crate::domain::HouseholdId;
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::model::{CreateHousehold, Household};
use super::referrals::{self, CreateHouseholdReferral, HouseholdReferrals};
use super::store::{self, HouseholdRow};

/// Start a household in one of the caller's cities.
#[utoipa::path(
    tag = "households",
    request_body = CreateHousehold,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Household),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/households")]
pub async fn create_household(
    ctx: Context,
    body: ApiJson<CreateHousehold>,
) -> Result<HttpResponse, ApiError> {
    let CreateHousehold { city_id, label } = body.0;
    let household = ctx
        .create_in(
            Action::HouseholdCreate,
            Entity::Household,
            city_id,
            move |tx| {
                let by = tx.principal.user_id;
                let row = store::create(tx.conn, tx.keyring, city_id, label.as_deref(), by)?;
                let household = store::view(tx.conn, tx.keyring, &row)?;
                Ok((
                    household,
                    Some(tx.event_on(audit::Action::HouseholdCreate, &row)),
                ))
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/households/{}", household.id)))
        .json(household))
}

/// A household and its members.
#[utoipa::path(
    tag = "households",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = Household))
)]
#[get("/households/{id}")]
pub async fn get_household(
    ctx: Context,
    id: web::Path<HouseholdId>,
) -> Result<HttpResponse, ApiError> {
    let household = ctx
        .act(
            Action::HouseholdRead,
            id.into_inner(),
            |tx, row: HouseholdRow| {
                let household = store::view(tx.conn, tx.keyring, &row)?;
                let event = tx
                    .event_on(audit::Action::HouseholdRead, &row)
                    .showing(household.members.iter().map(|m| m.id));
                Ok((household, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(household))
}

/// Refer several members of a household at once to one organisation: each
/// member named gets their own referral (the provider sees each person on
/// their own, in the minimal view), in one transaction. Every member must
/// be in the caller's cities (404), in this household (422 on `case_ids`)
/// and not closed (409). Members without consent to share with providers
/// are named in a 409 and nothing is made — unless `skip_without_consent`
/// is true: the others are referred and the skipped listed.
#[utoipa::path(
    tag = "households",
    params(("id" = String, Path, format = Uuid)),
    request_body = CreateHouseholdReferral,
    security(("bearer" = [])),
    responses(
        (status = 201, body = HouseholdReferrals),
        (status = 409, description = "Members without consent, or closed (named by case id)", body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/households/{id}/referrals")]
pub async fn refer_household(
    ctx: Context,
    id: web::Path<HouseholdId>,
    body: ApiJson<CreateHouseholdReferral>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let made = ctx
        .act(
            Action::ReferralCreate,
            id.into_inner(),
            move |tx, row: HouseholdRow| {
                let members =
                    match referrals::members_in_reach(tx.conn, tx.principal, &input.case_ids)? {
                        Ok(members) => members,
                        Err(case) => {
                            let event = tx
                                .denial()
                                .entity(Entity::Case, case.id.into())
                                .city(case.city_id.as_uuid())
                                .detail("ReferralCreate");
                            return Ok((Err(ApiError::NotFound), Some(event)));
                        }
                    };
                let by = tx.principal.user_id;
                let (made, rows) =
                    referrals::refer_members(tx.conn, tx.keyring, &row, members, input, by)?;
                let event = tx
                    .event_on(audit::Action::HouseholdRefer, &row)
                    .showing(rows.iter().map(|r| r.case_id))
                    .subjects(audit::SubjectKind::Referral, rows.iter().map(|r| r.id))
                    .detail(format!("{} referrals", rows.len()));
                Ok((Ok(made), Some(event)))
            },
        )
        .await??;
    Ok(HttpResponse::Created().json(made))
}
