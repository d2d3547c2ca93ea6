//! `POST /households`, `GET /households/{id}`.

use actix_web::{HttpResponse, get, post, web};

use crate::audit::{self, Entity};
use crate::auth::policy::Action;
use crate::domain::HouseholdId;
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::model::{CreateHousehold, Household};
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
