//! Queries on `users` and `user_cities`. Every function takes the connection
//! of the caller's transaction.

use diesel::prelude::*;

use crate::auth::Principal;
use crate::db::AnyConnection;
use crate::db::schema::{cities, organisations, user_cities, users};
use crate::domain::{CityId, OrganisationId, Role, UserId, time};
use crate::error::{ApiError, FieldError};
use crate::pagination::{Cursor, PageRequest};

use super::model::{User, UserRow};

pub fn find(conn: &mut AnyConnection, id: UserId) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .find(id)
        .select(users::all_columns)
        .first::<UserRow>(conn)
        .optional()?)
}

pub fn find_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .filter(users::username.eq(username.trim().to_lowercase()))
        .select(users::all_columns)
        .first::<UserRow>(conn)
        .optional()?)
}

pub fn cities_of(conn: &mut AnyConnection, id: UserId) -> Result<Vec<CityId>, ApiError> {
    Ok(user_cities::table
        .filter(user_cities::user_id.eq(id))
        .select(user_cities::city_id)
        .order(user_cities::city_id.asc())
        .load(conn)?)
}

/// The principal for an active user, or `None` (unknown or disabled).
pub fn load_principal(conn: &mut AnyConnection, id: UserId) -> Result<Option<Principal>, ApiError> {
    let Some(row) = find(conn, id)? else {
        return Ok(None);
    };
    if !row.active {
        return Ok(None);
    }
    let city_ids = cities_of(conn, id)?;
    Ok(Some(Principal {
        user_id: id,
        username: row.username.clone(),
        role: row.role,
        city_ids,
        organisation_id: row.organisation_id,
        token_version: row.token_version,
    }))
}

/// The user as admins see them, with their cities read.
pub fn load_view(conn: &mut AnyConnection, row: &UserRow) -> Result<User, ApiError> {
    let cities = cities_of(conn, row.id)?;
    view(row, cities)
}

pub fn view(row: &UserRow, city_ids: Vec<CityId>) -> Result<User, ApiError> {
    Ok(User {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role,
        city_ids,
        organisation_id: row.organisation_id,
        active: row.active,
        created_at: time::to_utc(row.created_at),
        updated_at: time::to_utc(row.updated_at),
    })
}

/// The role's rules on cities and organisation, and that they exist.
fn check_assignment(
    conn: &mut AnyConnection,
    role: Role,
    city_ids: &[CityId],
    organisation_id: Option<OrganisationId>,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if role.is_city_scoped() && city_ids.is_empty() {
        errors.push(FieldError::new(
            "city_ids",
            "must name at least one city for this role",
        ));
    }
    if !role.is_city_scoped() && !city_ids.is_empty() {
        errors.push(FieldError::new("city_ids", "must be empty for this role"));
    }
    match (role == Role::ProviderStaff, organisation_id) {
        (true, None) => errors.push(FieldError::new(
            "organisation_id",
            "is required for provider_staff",
        )),
        (false, Some(_)) => errors.push(FieldError::new(
            "organisation_id",
            "is only for provider_staff",
        )),
        _ => {}
    }
    if !city_ids.is_empty() {
        let wanted = city_ids.to_vec();
        let found: i64 = cities::table
            .filter(cities::id.eq_any(&wanted))
            .count()
            .get_result(conn)?;
        let mut distinct = wanted.clone();
        distinct.sort();
        distinct.dedup();
        if found != distinct.len() as i64 {
            errors.push(FieldError::new(
                "city_ids",
                "names a city that does not exist",
            ));
        }
    }
    if let Some(org) = organisation_id {
        let exists: i64 = organisations::table.find(org).count().get_result(conn)?;
        if exists == 0 {
            errors.push(FieldError::new("organisation_id", "does not exist"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub city_ids: &'a [CityId],
    pub organisation_id: Option<OrganisationId>,
}

pub fn create(conn: &mut AnyConnection, new: NewUser<'_>) -> Result<UserRow, ApiError> {
    check_assignment(conn, new.role, new.city_ids, new.organisation_id)?;
    let username = new.username.trim().to_lowercase();
    if find_by_username(conn, &username)?.is_some() {
        return Err(ApiError::Conflict("That username is taken.".into()));
    }
    let id = UserId::new();
    let now = time::now();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id),
            users::username.eq(&username),
            users::display_name.eq(new.display_name.trim()),
            users::password_hash.eq(new.password_hash),
            users::role.eq(new.role),
            users::organisation_id.eq(new.organisation_id),
            users::active.eq(true),
            users::token_version.eq(1_i64),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    set_cities(conn, id, new.city_ids)?;
    find(conn, id)?.ok_or(ApiError::NotFound)
}

fn set_cities(conn: &mut AnyConnection, id: UserId, city_ids: &[CityId]) -> Result<(), ApiError> {
    diesel::delete(user_cities::table.filter(user_cities::user_id.eq(id))).execute(conn)?;
    let mut distinct = city_ids.to_vec();
    distinct.sort();
    distinct.dedup();
    // diesel's MultiConnection cannot batch-insert; a user has few cities.
    for city in distinct {
        diesel::insert_into(user_cities::table)
            .values((user_cities::user_id.eq(id), user_cities::city_id.eq(city)))
            .execute(conn)?;
    }
    Ok(())
}

pub struct Changes {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub city_ids: Option<Vec<CityId>>,
    pub organisation_id: Option<Option<OrganisationId>>,
    pub active: Option<bool>,
}

/// Applies an admin's changes. Any change to what the user may reach (role,
/// cities, organisation, active) bumps `token_version`, so their tokens stop
/// working at once.
pub fn update(conn: &mut AnyConnection, id: UserId, changes: Changes) -> Result<UserRow, ApiError> {
    let row = find(conn, id)?.ok_or(ApiError::NotFound)?;
    let current_role = row.role;
    let current_cities = cities_of(conn, id)?;
    let role = changes.role.unwrap_or(current_role);
    let city_ids = changes.city_ids.clone().unwrap_or(current_cities.clone());
    let organisation_id = match changes.organisation_id {
        Some(org) => org,
        None => row.organisation_id,
    };
    check_assignment(conn, role, &city_ids, organisation_id)?;

    let mut sorted_new = city_ids.clone();
    sorted_new.sort();
    sorted_new.dedup();
    let reach_changed = role != current_role
        || sorted_new != current_cities
        || organisation_id != row.organisation_id
        || changes.active.is_some_and(|a| a != row.active);
    let now = time::now();
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(changes
                .display_name
                .as_deref()
                .map(str::trim)
                .unwrap_or(&row.display_name)),
            users::role.eq(role),
            users::organisation_id.eq(organisation_id),
            users::active.eq(changes.active.unwrap_or(row.active)),
            users::token_version.eq(row.token_version + i64::from(reach_changed)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changes.city_ids.is_some() {
        set_cities(conn, id, &city_ids)?;
    }
    find(conn, id)?.ok_or(ApiError::NotFound)
}

/// Stores a new password hash; with `end_sessions` every token the user
/// holds stops working.
pub fn set_password(
    conn: &mut AnyConnection,
    id: UserId,
    password_hash: &str,
    end_sessions: bool,
) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::token_version.eq(users::token_version + i64::from(end_sessions)),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A page of users ordered by username, after the page's cursor.
pub fn list(
    conn: &mut AnyConnection,
    page: &PageRequest<String>,
) -> Result<Vec<(UserRow, Vec<CityId>)>, ApiError> {
    let mut query = users::table
        .select(users::all_columns)
        .order(users::username.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(users::username.gt(after.key.clone()));
    }
    let rows: Vec<UserRow> = query.load(conn)?;
    let ids: Vec<UserId> = rows.iter().map(|r| r.id).collect();
    let pairs: Vec<(UserId, CityId)> = user_cities::table
        .filter(user_cities::user_id.eq_any(&ids))
        .select((user_cities::user_id, user_cities::city_id))
        .order((user_cities::user_id.asc(), user_cities::city_id.asc()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let cities = pairs
                .iter()
                .filter(|(user, _)| *user == row.id)
                .map(|&(_, city)| city)
                .collect();
            (row, cities)
        })
        .collect())
}

/// Where the next page starts after this user.
pub fn position(entry: &(UserRow, Vec<CityId>)) -> Cursor<String> {
    Cursor::new(entry.0.username.clone(), entry.0.id)
}
