//! `/governorates`, `/cities`, `/organisations`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::auth::trail;
use crate::db::Database;
use crate::domain::OrganisationId;
use crate::error::{ApiError, Problem};
use crate::web::extract::{self, ApiJson};
use crate::web::telemetry::RequestId;

use super::model::{
    City, CreateCity, CreateGovernorate, CreateOrganisation, Governorate, Organisation,
    OrganisationQuery, UpdateOrganisation,
};
use super::store;

/// Iraq's governorates.
#[utoipa::path(
    tag = "places",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Governorate>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/governorates")]
pub async fn list_governorates(
    principal: Principal,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceRead, Resource::Collection)?;
    let list = db.run(store::governorates).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a governorate (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateGovernorate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Governorate),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/governorates")]
pub async fn create_governorate(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateGovernorate>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceWrite, Resource::Collection)?;
    let created = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let created = store::create_governorate(conn, &body.0)?;
                let id = created
                    .id
                    .parse::<uuid::Uuid>()
                    .map_err(ApiError::internal)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::PlaceCreate,
                        Outcome::Success,
                    )
                    .entity(Entity::Governorate, id),
                )?;
                Ok(created)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Cities where cases are held.
#[utoipa::path(
    tag = "places",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<City>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cities")]
pub async fn list_cities(
    principal: Principal,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceRead, Resource::Collection)?;
    let list = db.run(store::cities).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a city (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateCity,
    security(("bearer" = [])),
    responses(
        (status = 201, body = City),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cities")]
pub async fn create_city(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateCity>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceWrite, Resource::Collection)?;
    let created = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let created = store::create_city(conn, &body.0)?;
                let id = created
                    .id
                    .parse::<uuid::Uuid>()
                    .map_err(ApiError::internal)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::PlaceCreate,
                        Outcome::Success,
                    )
                    .entity(Entity::City, id),
                )?;
                Ok(created)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Provider organisations, optionally of one kind or in one city.
#[utoipa::path(
    tag = "places",
    params(OrganisationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Organisation>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    req: HttpRequest,
    principal: Principal,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceRead, Resource::Collection)?;
    let query: OrganisationQuery = extract::parse_query(&req)?;
    let list = db
        .run(move |conn| store::organisations(conn, query.kind, query.city_id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a provider organisation (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Organisation),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateOrganisation>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceWrite, Resource::Collection)?;
    let created = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let created = store::create_organisation(conn, &body.0)?;
                let id = created
                    .id
                    .parse::<uuid::Uuid>()
                    .map_err(ApiError::internal)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::OrganisationCreate,
                        Outcome::Success,
                    )
                    .entity(Entity::Organisation, id),
                )?;
                Ok(created)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organisations/{}", created.id)))
        .json(created))
}

/// Rename, disable or re-enable an organisation (admin).
#[utoipa::path(
    tag = "places",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Organisation),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    principal: Principal,
    request: RequestId,
    id: web::Path<OrganisationId>,
    body: ApiJson<UpdateOrganisation>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::PlaceWrite, Resource::Collection)?;
    let id = id.into_inner();
    let updated = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let updated = store::update_organisation(conn, id, &body.0)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::OrganisationUpdate,
                        Outcome::Success,
                    )
                    .entity(Entity::Organisation, id.as_uuid()),
                )?;
                Ok(updated)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}
