//! `/cases`, `/cases/{id}`, `/cases/search`; notes and status changes are
//! in the submodules.
//!
//! Each handler: parse, authenticate, then one database call in which the
//! policy decides (a denial is audited and committed), and the work and its
//! audit event commit together in one transaction.

use actix_web::http::header::{ETAG, IF_MATCH, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Resource, Scope};
use crate::auth::trail::{self, Target};
use crate::crypto::blind_index::{name_tokens, normalise_national_id, normalise_phone};
use crate::crypto::{BlindIndexer, Keyring};
use crate::db::{AnyConnection, Database};
use crate::domain::{CaseId, CaseStatus, CityId, time};
use crate::error::{ApiError, FieldError, Problem};
use crate::users::store as users;
use crate::web::extract::{self, ApiJson};
use crate::web::telemetry::RequestId;

use super::data_keys;
use super::model::{
    CaseListQuery, CasePage, CaseSummary, CaseView, CreateCase, SearchRequest, SearchResult,
    UpdateCase,
};
use super::store::{self, CaseRow, Crypto, ListFilter};

pub mod notes;
pub mod status;

pub(crate) fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` names: 428 without one, 412 for one we did not issue.
fn expected_version(req: &HttpRequest) -> Result<i64, ApiError> {
    let value = req
        .headers()
        .get(IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?;
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map_err(|_| ApiError::PreconditionFailed)
}

fn case_target(row: &CaseRow) -> Result<Target, ApiError> {
    Ok(Target {
        entity: Entity::Case,
        id: row.case_id()?.as_uuid(),
        city: Some(row.city()?),
    })
}

/// Loads a case and asks the policy; out of scope and absent are both 404,
/// an erased case the caller may reach is 410.
pub(crate) fn load_authorized(
    conn: &mut AnyConnection,
    principal: &Principal,
    request: &RequestId,
    id: CaseId,
    action: Action,
) -> Result<CaseRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    trail::authorize(
        conn,
        principal,
        request,
        action,
        Resource::City(row.city()?),
        case_target(&row)?,
    )?;
    if row.status()? == CaseStatus::Erased {
        return Err(ApiError::Gone);
    }
    Ok(row)
}

pub(crate) fn case_event(
    principal: &Principal,
    request: &RequestId,
    action: audit::Action,
    row: &CaseRow,
) -> Result<audit::NewEvent, ApiError> {
    Ok(trail::event(principal, request, action, Outcome::Success)
        .entity(Entity::Case, row.case_id()?.as_uuid())
        .city(row.city()?.as_uuid()))
}

/// The city a household is held in, if it exists.
fn household_city(
    conn: &mut AnyConnection,
    household: crate::domain::HouseholdId,
) -> Result<Option<String>, ApiError> {
    use crate::db::schema::households;
    use diesel::prelude::*;
    Ok(households::table
        .find(household.to_db())
        .select(households::city_id)
        .first(conn)
        .optional()?)
}

/// Checks that refer to other rows: the household is in the case's city and
/// the assignee works there.
fn check_links(
    conn: &mut AnyConnection,
    city: CityId,
    household: Option<crate::domain::HouseholdId>,
    assigned_to: Option<crate::domain::UserId>,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = Vec::new();
    if let Some(household) = household
        && household_city(conn, household)?.as_deref() != Some(city.to_db().as_str())
    {
        errors.push(FieldError::new(
            "household_id",
            "is not a household of this city",
        ));
    }
    if let Some(user) = assigned_to {
        let works_here = match users::load_principal(conn, user)? {
            Some(p) => p.role.is_city_scoped() && p.city_ids.contains(&city),
            None => false,
        };
        if !works_here {
            errors.push(FieldError::new(
                "assigned_to",
                "must be an active social worker or supervisor of this city",
            ));
        }
    }
    Ok(errors)
}

fn created(view: &CaseView) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/cases/{}", view.id)))
        .insert_header((ETAG, etag(view.version)))
        .json(view)
}

/// Open a case for one person.
#[utoipa::path(
    tag = "cases",
    request_body = CreateCase,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CaseView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The city is not one of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases")]
pub async fn create_case(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateCase>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    indexer: web::Data<BlindIndexer>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let today = time::today();
    let mut errors = store::check_subject(&input.subject, "subject.", today);
    errors.extend(store::check_return_date(input.return_date, today));
    let view = db
        .run(move |conn| {
            let city = input.city_id;
            trail::authorize(
                conn,
                &principal,
                &request,
                Action::CaseCreate,
                Resource::City(city),
                Target {
                    entity: Entity::Case,
                    id: uuid::Uuid::nil(),
                    city: Some(city),
                },
            )?;
            errors.extend(check_links(
                conn,
                city,
                input.household_id,
                input.assigned_to,
            )?);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            crate::db::write_transaction(conn, |conn| {
                let crypto = Crypto {
                    keyring: &keyring,
                    indexer: &indexer,
                };
                let id = store::create(conn, crypto, principal.user_id, &input)?;
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                audit::append(
                    conn,
                    &case_event(&principal, &request, audit::Action::CaseCreate, &row)?,
                )?;
                let person = data_keys::load(conn, &keyring, &row.id)?;
                store::view(&row, &person, today)
            })
        })
        .await?;
    Ok(created(&view))
}

/// Cases in the caller's cities, newest first, a page at a time.
#[utoipa::path(
    tag = "cases",
    params(CaseListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CasePage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The city is not one of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases")]
pub async fn list_cases(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseList, Resource::Collection)?;
    let query: CaseListQuery = extract::parse_query(&req)?;
    let Scope::Cities(mut cities) = policy::scope(&principal, Action::CaseList) else {
        return Err(ApiError::Forbidden);
    };
    if let Some(city) = query.city_id {
        if !cities.contains(&city) {
            return Err(ApiError::NotFound);
        }
        cities = vec![city];
    }
    let limit = i64::from(extract::page_size(&req, query.limit));
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = ListFilter {
        cities,
        status: query.status,
        assigned_to: query.assigned_to,
        household_id: query.household_id,
    };
    let page = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let mut rows = store::list(conn, &filter, after, limit + 1)?;
                let more = rows.len() as i64 > limit;
                rows.truncate(limit as usize);
                let next_cursor = if more {
                    rows.last().map(|r| encode_cursor(r.created_at, &r.id))
                } else {
                    None
                };
                let items = store::summaries(conn, &keyring, &rows, time::today())?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::CaseList,
                        Outcome::Success,
                    )
                    .detail(format!("{} cases", items.len())),
                )?;
                Ok(CasePage { items, next_cursor })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

pub fn encode_cursor(at: chrono::NaiveDateTime, id: &str) -> String {
    use base64::Engine;
    let text = format!("{}|{}", at.and_utc().timestamp_micros(), id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// A cursor this server issued; anything else is a 422 naming `cursor`.
fn decode_cursor(cursor: &str) -> Result<(chrono::NaiveDateTime, String), ApiError> {
    use base64::Engine;
    let bad = || ApiError::field("cursor", "is not a cursor this server issued");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    CaseId::from_db(id).map_err(|_| bad())?;
    Ok((at.naive_utc(), id.to_string()))
}

/// One case, whole and decrypted.
#[utoipa::path(
    tag = "cases",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Erased", body = Problem, content_type = "application/problem+json"),
    )
)]
// Hex digits and hyphens only: `/cases/search` with another method than
// POST is a 405, not a case id that does not parse.
#[get("/cases/{id:[0-9a-fA-F-]+}")]
pub async fn get_case(
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseRead, Resource::Collection)?;
    let id = id.into_inner();
    let view = db
        .run(move |conn| {
            load_authorized(conn, &principal, &request, id, Action::CaseRead)?;
            crate::db::write_transaction(conn, |conn| {
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let person = data_keys::load(conn, &keyring, &row.id)?;
                let view = store::view(&row, &person, time::today())?;
                audit::append(
                    conn,
                    &case_event(&principal, &request, audit::Action::CaseRead, &row)?,
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// Change a case. Needs `If-Match` with the ETag last read.
#[utoipa::path(
    tag = "cases",
    params(
        ("id" = String, Path, format = Uuid),
        ("If-Match" = String, Header, description = "The ETag of the version being changed"),
    ),
    request_body = UpdateCase,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView, headers(("ETag" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/cases/{id:[0-9a-fA-F-]+}")]
pub async fn update_case(
    req: HttpRequest,
    principal: Principal,
    request: RequestId,
    id: web::Path<CaseId>,
    body: ApiJson<UpdateCase>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseUpdate, Resource::Collection)?;
    if !req.headers().contains_key(IF_MATCH) {
        return Err(ApiError::PreconditionRequired);
    }
    // Answered after the case is found and the body checked: bad input is
    // a 422 naming the field whatever If-Match says.
    let expected = expected_version(&req);
    let indexer = req
        .app_data::<web::Data<BlindIndexer>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("blind indexer missing")))?;
    let id = id.into_inner();
    let patch = body.0;
    let mut errors = check_patch(&patch, time::today());
    let view = db
        .run(move |conn| {
            let row = load_authorized(conn, &principal, &request, id, Action::CaseUpdate)?;
            let household = patch.household_id.unwrap_or(None);
            let assigned = patch.assigned_to.unwrap_or(None);
            errors.extend(check_links(conn, row.city()?, household, assigned)?);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let expected = expected?;
            crate::db::write_transaction(conn, |conn| {
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                if row.version != expected {
                    return Err(ApiError::PreconditionFailed);
                }
                let crypto = Crypto {
                    keyring: &keyring,
                    indexer: &indexer,
                };
                store::update(conn, crypto, &row, expected, &patch, time::today())?;
                let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
                audit::append(
                    conn,
                    &case_event(&principal, &request, audit::Action::CaseUpdate, &row)?,
                )?;
                let person = data_keys::load(conn, &keyring, &row.id)?;
                store::view(&row, &person, time::today())
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(view.version)))
        .json(view))
}

/// The rules a PATCH's own fields must keep, checked before its If-Match,
/// so that bad input is a 422 naming the field whatever the version.
/// (`store::update` checks the merged case again.)
fn check_patch(patch: &UpdateCase, today: chrono::NaiveDate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(subject) = &patch.subject {
        if subject
            .full_name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            errors.push(FieldError::new("subject.full_name", "must not be blank"));
        }
        if let Some(dob) = subject.date_of_birth {
            errors.extend(store::check_date_of_birth(
                dob,
                "subject.date_of_birth",
                today,
            ));
        }
        if let Some(Some(id)) = &subject.national_id
            && normalise_national_id(id).is_none()
        {
            errors.push(FieldError::new(
                "subject.national_id",
                "must contain digits",
            ));
        }
        if let Some(Some(phone)) = &subject.phone
            && normalise_phone(phone).is_none()
        {
            errors.push(FieldError::new("subject.phone", "is not a phone number"));
        }
    }
    if let Some(date) = patch.return_date {
        errors.extend(store::check_return_date(date, today));
    }
    errors
}

/// Does this decrypted case really match? Blind indexes are truncated, so a
/// candidate can be a false positive; the plaintext decides.
fn really_matches(view: &CaseView, query: &SearchRequest) -> bool {
    let id_ok = query.national_id.as_deref().is_none_or(|wanted| {
        let stored = view
            .subject
            .national_id
            .as_deref()
            .and_then(normalise_national_id);
        stored.is_some() && stored == normalise_national_id(wanted)
    });
    let phone_ok = query.phone.as_deref().is_none_or(|wanted| {
        let stored = view.subject.phone.as_deref().and_then(normalise_phone);
        stored.is_some() && stored == normalise_phone(wanted)
    });
    let name_ok = query.name.as_deref().is_none_or(|wanted| {
        let mut have = name_tokens(&view.subject.full_name);
        if let Some(latin) = &view.subject.full_name_latin {
            have.extend(name_tokens(latin));
        }
        let wanted = name_tokens(wanted);
        !wanted.is_empty() && wanted.iter().all(|t| have.contains(t))
    });
    id_ok && phone_ok && name_ok
}

/// Find a person before opening a case: matches in the caller's cities, and
/// a count of matches held elsewhere (so a transfer can be asked for).
#[utoipa::path(
    tag = "cases",
    request_body = SearchRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = SearchResult),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/search")]
pub async fn search_cases(
    principal: Principal,
    request: RequestId,
    body: ApiJson<SearchRequest>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
    indexer: web::Data<BlindIndexer>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::CaseSearch, Resource::Collection)?;
    let query = body.0;
    if query.national_id.is_none() && query.phone.is_none() && query.name.is_none() {
        return Err(ApiError::field(
            "body",
            "give at least one of national_id, phone, name",
        ));
    }
    let Scope::Cities(cities) = policy::scope(&principal, Action::CaseSearch) else {
        return Err(ApiError::Forbidden);
    };
    let result = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let candidates = store::search_candidates(
                    conn,
                    &indexer,
                    query.national_id.as_deref(),
                    query.phone.as_deref(),
                    query.name.as_deref(),
                )?;
                let scope: Vec<String> = cities.iter().map(CityId::to_db).collect();
                let (here, elsewhere): (Vec<_>, Vec<_>) = candidates
                    .into_iter()
                    .partition(|(_, city)| scope.contains(city));
                let today = time::today();
                let mut items: Vec<CaseSummary> = Vec::new();
                // One query for the rows and one for their keys, however many
                // candidates there are.
                let ids: Vec<String> = here.into_iter().map(|(case, _)| case).collect();
                let rows = store::find_many(conn, &ids)?;
                let refs: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
                let mut people = data_keys::load_many(conn, &keyring, &refs)?;
                for row in rows
                    .iter()
                    .filter(|r| r.status != CaseStatus::Erased.as_str())
                {
                    let Some(person) = people.remove(&row.id) else {
                        continue;
                    };
                    let view = store::view(row, &person, today)?;
                    if really_matches(&view, &query)
                        && let Some(line) = store::summary(row, &person, today)?
                    {
                        items.push(line);
                    }
                }
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::CaseSearch,
                        Outcome::Success,
                    )
                    .detail(format!(
                        "{} here, {} elsewhere",
                        items.len(),
                        elsewhere.len()
                    )),
                )?;
                Ok(SearchResult {
                    items,
                    elsewhere: elsewhere.len() as u64,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cursors_round_trip() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 5, 1)
            .unwrap()
            .and_hms_micro_opt(8, 30, 0, 123_456)
            .unwrap();
        let id = CaseId::new().to_db();
        assert_eq!(decode_cursor(&encode_cursor(at, &id)).unwrap(), (at, id));
    }

    proptest! {
        /// Any cursor a client makes up is a 422 on `cursor`, never a panic.
        #[test]
        fn made_up_cursors_are_field_errors(text in "\\PC{0,80}") {
            if let Err(err) = decode_cursor(&text) {
                prop_assert!(matches!(&err, ApiError::Validation(f) if f[0].field == "cursor"), "{err:?}");
            }
        }
    }
}
