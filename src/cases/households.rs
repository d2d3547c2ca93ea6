//! Households: a mother and her children, each their own case. The label a
//! worker gives a household is sealed with the household's own data key.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource};
use crate::auth::trail::{self, Target};
use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::schema::{cases, data_keys, households};
use crate::db::{AnyConnection, Database};
use crate::domain::{CaseStatus, CityId, HouseholdId, UserId, time};
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::telemetry::RequestId;

use super::keys;
use super::model::{CreateHousehold, Household};
use super::routes::today;
use super::store::{self, CaseRow};

const TABLE: &str = "households";

pub fn city_of(conn: &mut AnyConnection, id: HouseholdId) -> Result<Option<CityId>, ApiError> {
    let city: Option<String> = households::table
        .find(id.to_db())
        .select(households::city_id)
        .first(conn)
        .optional()?;
    city.map(|c| CityId::from_db(&c).map_err(|_| store::corrupt("households.city_id")))
        .transpose()
}

fn view(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    id: HouseholdId,
    city: CityId,
) -> Result<Household, ApiError> {
    let label: Option<Sealed> = households::table
        .find(id.to_db())
        .select(households::label_enc)
        .first(conn)?;
    let label = match label {
        Some(sealed) => {
            let keys = keys::load(conn, keyring, &id.to_db())?;
            match keys
                .row(&id.to_db(), &city.to_db())
                .open_text(TABLE, "label", &sealed)
            {
                Ok(Opened::Value(v)) => Some(v),
                Ok(Opened::Erased) => None,
                Err(err) => return Err(store::integrity(err, TABLE, &id.to_db())),
            }
        }
        None => None,
    };
    let rows: Vec<CaseRow> = cases::table
        .filter(cases::household_id.eq(id.to_db()))
        .filter(cases::status.ne(CaseStatus::Erased.as_str()))
        .select(cases::all_columns)
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)?;
    let members = store::summaries(conn, keyring, &rows, today())?;
    Ok(Household {
        id,
        city_id: city,
        label,
        members,
    })
}

/// A new row of `households`.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = households, treat_none_as_default_value = false)]
pub struct NewHousehold {
    pub id: String,
    pub city_id: String,
    pub label_enc: Option<Sealed>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A new household, its label (if any) sealed under a data key of its own;
/// nothing is stored. The key row is `None` when there is no label.
pub fn seal_new(
    keyring: &Keyring,
    id: HouseholdId,
    city: CityId,
    label: Option<&str>,
    author: UserId,
    now: NaiveDateTime,
) -> Result<(Option<keys::NewDataKey>, NewHousehold), ApiError> {
    let (key, label_enc) = match label {
        Some(label) => {
            let (key, person) = keys::generate(keyring, &id.to_db(), now)?;
            let sealed = person
                .row(&id.to_db(), &city.to_db())
                .seal_text(TABLE, "label", label)
                .map_err(ApiError::internal)?;
            (Some(key), Some(sealed))
        }
        None => (None, None),
    };
    let row = NewHousehold {
        id: id.to_db(),
        city_id: city.to_db(),
        label_enc,
        created_by: author.to_db(),
        created_at: now,
    };
    Ok((key, row))
}

/// Stores households and their label keys in multi-row INSERTs.
pub fn insert_many(
    conn: &mut AnyConnection,
    batch: &[(Option<keys::NewDataKey>, NewHousehold)],
) -> Result<(), ApiError> {
    let keys: Vec<&keys::NewDataKey> = batch.iter().filter_map(|(k, _)| k.as_ref()).collect();
    let rows: Vec<&NewHousehold> = batch.iter().map(|(_, h)| h).collect();
    crate::insert_batches!(conn, data_keys::table, keys, 4);
    crate::insert_batches!(conn, households::table, rows, 5);
    Ok(())
}

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

/// Moves a household to another city, re-sealing its label for the new
/// city. Its members are moved by the caller.
pub fn move_to_city(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    id: HouseholdId,
    from: CityId,
    to: CityId,
) -> Result<(), ApiError> {
    let label: Option<Sealed> = households::table
        .find(id.to_db())
        .select(households::label_enc)
        .first(conn)?;
    let resealed = match label {
        Some(sealed) => {
            let keys = keys::load(conn, keyring, &id.to_db())?;
            let subject = id.to_db();
            match keys
                .row(&subject, &from.to_db())
                .open_text(TABLE, "label", &sealed)
            {
                Ok(Opened::Value(text)) => Some(
                    keys.row(&subject, &to.to_db())
                        .seal_text(TABLE, "label", &text)
                        .map_err(ApiError::internal)?,
                ),
                Ok(Opened::Erased) => None,
                Err(err) => return Err(store::integrity(err, TABLE, &subject)),
            }
        }
        None => None,
    };
    diesel::update(households::table.find(id.to_db()))
        .set((
            households::city_id.eq(to.to_db()),
            households::label_enc.eq(resealed),
        ))
        .execute(conn)?;
    Ok(())
}

/// The cases of a household that are not erased.
pub fn members(conn: &mut AnyConnection, id: HouseholdId) -> Result<Vec<CaseRow>, ApiError> {
    Ok(cases::table
        .filter(cases::household_id.eq(id.to_db()))
        .filter(cases::status.ne(CaseStatus::Erased.as_str()))
        .select(cases::all_columns)
        .order((cases::created_at.asc(), cases::id.asc()))
        .load(conn)?)
}
