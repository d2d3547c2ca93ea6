//! Queries on `users` and `user_cities`. Every function takes the connection
//! of the caller's transaction.

use diesel::prelude::*;

use crate::auth::{Principal, Scope};
use crate::db::AnyConnection;
use crate::db::schema::{cities, grant_requests, organisations, user_cities, users};
use crate::domain::{Approval, CityId, OrganisationId, Reach, RequestStatus, Role, UserId, time};
use crate::error::{ApiError, FieldError};
use crate::pagination::{Cursor, PageRequest};

use super::model::{User, UserRow};
use super::requests::{self, GrantRequestRow};

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

/// The principal for an approved, active user, or `None`. Whether a
/// missing second factor restricts it is the extractor's to say (it knows
/// the settings); here it is `false`.
///
/// One statement, run at every request: the account with its cities joined
/// (a row per city, or one with none).
pub fn load_principal(conn: &mut AnyConnection, id: UserId) -> Result<Option<Principal>, ApiError> {
    let rows: Vec<(UserRow, Option<CityId>)> = users::table
        .left_join(user_cities::table)
        .filter(users::id.eq(id))
        .select((users::all_columns, user_cities::city_id.nullable()))
        .order(user_cities::city_id.asc())
        .load(conn)?;
    let mut city_ids: Vec<CityId> = rows.iter().filter_map(|(_, city)| *city).collect();
    city_ids.dedup();
    let Some((row, _)) = rows.into_iter().next() else {
        return Ok(None);
    };
    if !row.active || row.approval != Approval::Approved {
        return Ok(None);
    }
    Ok(Some(Principal {
        user_id: id,
        username: row.username.clone(),
        role: row.role,
        city_ids,
        organisation_id: row.organisation_id,
        token_version: row.token_version,
        totp_enabled: row.totp_enabled(),
        second_factor_missing: false,
    }))
}

/// The user as admins see them, with their cities and pending grant read.
pub fn load_view(conn: &mut AnyConnection, row: &UserRow) -> Result<User, ApiError> {
    let cities = cities_of(conn, row.id)?;
    let pending = requests::pending_of(conn, row.id)?;
    Ok(view(row, cities, pending.as_ref()))
}

pub fn view(row: &UserRow, city_ids: Vec<CityId>, pending: Option<&GrantRequestRow>) -> User {
    User {
        id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role: row.role,
        city_ids,
        organisation_id: row.organisation_id,
        active: row.active,
        approval: row.approval,
        enrolled: row.enrolled(),
        totp_enabled: row.totp_enabled(),
        pending_grant: pending.map(GrantRequestRow::view),
        created_at: time::to_utc(row.created_at),
        updated_at: time::to_utc(row.updated_at),
    }
}

/// The role's rules on cities and organisation, and that they exist.
pub fn check_assignment(
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

/// An account made with its password: the first admin (`sanad user
/// create`), demo accounts, test fixtures. Approved at once.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub city_ids: &'a [CityId],
    pub organisation_id: Option<OrganisationId>,
}

pub fn create(conn: &mut AnyConnection, new: NewUser<'_>) -> Result<UserRow, ApiError> {
    let reach = Reach::new(new.role, new.city_ids, new.organisation_id);
    insert(
        conn,
        new.username,
        new.display_name,
        &reach,
        new.password_hash,
        Approval::Approved,
    )
}

/// An account made through the API: no password (the person sets it with
/// an enrolment code), approved or waiting for a second person.
pub fn create_account(
    conn: &mut AnyConnection,
    username: &str,
    display_name: &str,
    reach: &Reach,
    approval: Approval,
) -> Result<UserRow, ApiError> {
    insert(conn, username, display_name, reach, "", approval)
}

fn insert(
    conn: &mut AnyConnection,
    username: &str,
    display_name: &str,
    reach: &Reach,
    password_hash: &str,
    approval: Approval,
) -> Result<UserRow, ApiError> {
    check_assignment(conn, reach.role, &reach.cities, reach.organisation)?;
    let username = username.trim().to_lowercase();
    if find_by_username(conn, &username)?.is_some() {
        return Err(ApiError::Taken("username"));
    }
    let id = UserId::new();
    let now = time::now();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id),
            users::username.eq(&username),
            users::display_name.eq(display_name.trim()),
            users::password_hash.eq(password_hash),
            users::role.eq(reach.role),
            users::organisation_id.eq(reach.organisation),
            users::active.eq(true),
            users::token_version.eq(1_i64),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::approval.eq(approval),
        ))
        .execute(conn)?;
    set_cities(conn, id, &reach.cities)?;
    find(conn, id)?.ok_or(ApiError::NotFound)
}

/// Replaces the account's cities.
pub fn set_cities(
    conn: &mut AnyConnection,
    id: UserId,
    city_ids: &[CityId],
) -> Result<(), ApiError> {
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

/// Gives the account `reach`: role, organisation and cities, with its
/// sessions ended (a new `token_version`, every refresh family revoked).
pub fn apply_reach(conn: &mut AnyConnection, id: UserId, reach: &Reach) -> Result<(), ApiError> {
    check_assignment(conn, reach.role, &reach.cities, reach.organisation)?;
    diesel::update(users::table.find(id))
        .set((
            users::role.eq(reach.role),
            users::organisation_id.eq(reach.organisation),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    set_cities(conn, id, &reach.cities)?;
    end_sessions(conn, id)
}

/// Ends every session of the account: its access tokens stop at their next
/// request, its refresh families are revoked.
pub fn end_sessions(conn: &mut AnyConnection, id: UserId) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set(users::token_version.eq(users::token_version + 1))
        .execute(conn)?;
    crate::auth::store::revoke_all(conn, id)
}

/// Changes the account's display name and active flag; a change of the
/// flag ends every session (a disabled account stops at its next request).
/// Returns whether the sessions ended.
pub fn update_profile(
    conn: &mut AnyConnection,
    row: &UserRow,
    display_name: Option<&str>,
    active: Option<bool>,
) -> Result<bool, ApiError> {
    let active = active.unwrap_or(row.active);
    diesel::update(users::table.find(row.id))
        .set((
            users::display_name.eq(display_name.map_or(row.display_name.as_str(), str::trim)),
            users::active.eq(active),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    let ended = active != row.active;
    if ended {
        end_sessions(conn, row.id)?;
    }
    Ok(ended)
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

/// An account as listed: its row, its cities and its pending grant.
pub type Listed = (UserRow, Vec<CityId>, Option<GrantRequestRow>);

/// A page of users ordered by username, after the page's cursor, within
/// the caller's scope: every account (admins; `pending_only` keeps those
/// with a pending grant), or, for a city supervisor, the accounts whose
/// pending grant they may decide.
pub fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    pending_only: bool,
    page: &PageRequest<String>,
) -> Result<Vec<Listed>, ApiError> {
    let mut query = users::table
        .select(users::all_columns)
        .order(users::username.asc())
        .limit(page.fetch())
        .into_boxed();
    match scope {
        Scope::National if pending_only => {
            let pending = grant_requests::table
                .filter(grant_requests::status.eq(RequestStatus::Pending))
                .select(grant_requests::user_id);
            query = query.filter(users::id.eq_any(pending));
        }
        Scope::National => {}
        Scope::Cities(cities) => {
            let decidable = requests::decidable_by_supervisor(conn, cities)?;
            query = query.filter(users::id.eq_any(decidable));
        }
        Scope::Organisation(_) | Scope::Nothing => return Ok(Vec::new()),
    }
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
    let mut pending = requests::pending_of_many(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let cities = pairs
                .iter()
                .filter(|(user, _)| *user == row.id)
                .map(|&(_, city)| city)
                .collect();
            let grant = pending
                .iter()
                .position(|g| g.user_id == row.id)
                .map(|i| pending.swap_remove(i));
            (row, cities, grant)
        })
        .collect())
}

/// Where the next page starts after this user.
pub fn position(entry: &Listed) -> Cursor<String> {
    Cursor::new(entry.0.username.clone(), entry.0.id)
}
