//! `POST /households`, `GET /households/{id}`.

use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::auth::trail::{self, Target};
use crate::crypto::Keyring;
use crate::db::Database;
use crate::db::schema::{data_keys, households};
use crate::domain::{HouseholdId, time};
use crate::error::{ApiError, Problem};
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::model::{CreateHousehold, Household};
use super::store::{city_of, seal_new, view};

/// Start a household in one of the caller's cities.
#[utoipa::path(
    tag = "households",
    request_body = CreateHousehold,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Household),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/households")]
pub async fn create_household(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateHousehold>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::HouseholdCreate, Resource::Collection)?;
    let input = body.0;
    let household = db
        .run(move |conn| {
            let city = input.city_id;
            let id = HouseholdId::new();
            trail::authorize(
                conn,
                &principal,
                &request,
                Action::HouseholdCreate,
                Resource::City(city),
                Target {
                    entity: Entity::Household,
                    id: id.as_uuid(),
                    city: Some(city),
                },
            )?;
            crate::db::write_transaction(conn, |conn| {
                let label = input
                    .label
                    .as_deref()
                    .map(str::trim)
                    .filter(|l| !l.is_empty());
                let (key, row) =
                    seal_new(&keyring, id, city, label, principal.user_id, time::now())?;
                if let Some(key) = key {
                    diesel::insert_into(data_keys::table)
                        .values(&key)
                        .execute(conn)?;
                }
                diesel::insert_into(households::table)
                    .values(&row)
                    .execute(conn)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::HouseholdCreate,
                        Outcome::Success,
                    )
                    .entity(Entity::Household, id.as_uuid())
                    .city(city.as_uuid()),
                )?;
                view(conn, &keyring, id, city)
            })
        })
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
    responses(
        (status = 200, body = Household),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/households/{id}")]
pub async fn get_household(
    principal: Principal,
    request: RequestId,
    id: web::Path<HouseholdId>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::HouseholdRead, Resource::Collection)?;
    let id = id.into_inner();
    let household = db
        .run(move |conn| {
            let city = city_of(conn, id)?.ok_or(ApiError::NotFound)?;
            trail::authorize(
                conn,
                &principal,
                &request,
                Action::HouseholdRead,
                Resource::City(city),
                Target {
                    entity: Entity::Household,
                    id: id.as_uuid(),
                    city: Some(city),
                },
            )?;
            crate::db::write_transaction(conn, |conn| {
                let household = view(conn, &keyring, id, city)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::HouseholdRead,
                        Outcome::Success,
                    )
                    .entity(Entity::Household, id.as_uuid())
                    .city(city.as_uuid()),
                )?;
                Ok(household)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(household))
}
