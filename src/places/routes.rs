//! `/governorates`, `/cities`, `/organisations`: every signed-in user reads
//! them; admins write them.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::Action;
use crate::db::AnyConnection;
use crate::domain::OrganisationId;
use crate::error::ApiError;
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::model::{
    City, CreateCity, CreateGovernorate, CreateOrganisation, Governorate, Organisation,
    OrganisationQuery, UpdateOrganisation,
};
use super::store;

/// A list every role may read: no event, nothing to decide but the role.
async fn read<T, F>(ctx: Context, list: F) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    let list = ctx
        .on_collection(Action::PlaceRead, Ok(()), |tx, _, ()| {
            Ok((list(tx.conn)?, None))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// An admin's change to a place, recorded as `event` on the `entity` whose
/// id `id_of` gives.
async fn write<T, F>(
    ctx: Context,
    event: audit::Action,
    entity: Entity,
    id_of: fn(&T) -> Uuid,
    change: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError> + Send + 'static,
{
    ctx.on_collection(Action::PlaceWrite, Ok(()), move |tx, _, ()| {
        let changed = change(tx)?;
        let event = tx.event(event).entity(entity, id_of(&changed));
        Ok((changed, Some(event)))
    })
    .await
}

/// Iraq's governorates.
#[utoipa::path(
    tag = "places",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Governorate>))
)]
#[get("/governorates")]
pub async fn list_governorates(ctx: Context) -> Result<HttpResponse, ApiError> {
    read(ctx, store::governorates).await
}

/// Add a governorate (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateGovernorate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Governorate),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/governorates")]
pub async fn create_governorate(
    ctx: Context,
    body: ApiJson<CreateGovernorate>,
) -> Result<HttpResponse, ApiError> {
    let id_of = |g: &Governorate| g.id.as_uuid();
    let created = write(
        ctx,
        audit::Action::PlaceCreate,
        Entity::Governorate,
        id_of,
        move |tx| store::create_governorate(tx.conn, &body.0),
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Cities where cases are held.
#[utoipa::path(
    tag = "places",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<City>))
)]
#[get("/cities")]
pub async fn list_cities(ctx: Context) -> Result<HttpResponse, ApiError> {
    read(ctx, store::cities).await
}

/// Add a city (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateCity,
    security(("bearer" = [])),
    responses(
        (status = 201, body = City),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cities")]
pub async fn create_city(
    ctx: Context,
    body: ApiJson<CreateCity>,
) -> Result<HttpResponse, ApiError> {
    let id_of = |c: &City| c.id.as_uuid();
    let created = write(
        ctx,
        audit::Action::PlaceCreate,
        Entity::City,
        id_of,
        move |tx| store::create_city(tx.conn, &body.0),
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Provider organisations, optionally of one kind or in one city.
#[utoipa::path(
    tag = "places",
    params(OrganisationQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Organisation>))
)]
#[get("/organisations")]
pub async fn list_organisations(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let query = extract::parse_query::<OrganisationQuery>(&req);
    let list = ctx
        .on_collection(Action::PlaceRead, query, |tx, _, query| {
            Ok((
                store::organisations(tx.conn, query.kind, query.city_id)?,
                None,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add a provider organisation (admin).
#[utoipa::path(
    tag = "places",
    request_body = CreateOrganisation,
    security(("bearer" = [])),
    responses((status = 201, body = Organisation))
)]
#[post("/organisations")]
pub async fn create_organisation(
    ctx: Context,
    body: ApiJson<CreateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let id_of = |o: &Organisation| o.id.as_uuid();
    let created = write(
        ctx,
        audit::Action::OrganisationCreate,
        Entity::Organisation,
        id_of,
        move |tx| store::create_organisation(tx.conn, &body.0),
    )
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
    responses((status = 200, body = Organisation))
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    ctx: Context,
    id: web::Path<OrganisationId>,
    body: ApiJson<UpdateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let id_of = |o: &Organisation| o.id.as_uuid();
    let updated = write(
        ctx,
        audit::Action::OrganisationUpdate,
        Entity::Organisation,
        id_of,
        move |tx| store::update_organisation(tx.conn, id, &body.0),
    )
    .await?;
    Ok(HttpResponse::Ok().json(updated))
}
