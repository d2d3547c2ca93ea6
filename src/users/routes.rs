//! Admin management of user accounts: `POST /users`, `GET /users`,
//! `GET /users/{id}`, `PATCH /users/{id}`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity, Outcome};
use crate::auth::Principal;
use crate::auth::password;
use crate::auth::policy::{self, Action, Resource};
use crate::auth::routes::AuthState;
use crate::auth::store as refresh;
use crate::auth::trail;
use crate::db::Database;
use crate::domain::UserId;
use crate::error::{ApiError, FieldError, Problem};
use crate::web::extract::{self, ApiJson};
use crate::web::telemetry::RequestId;

use super::model::{CreateUser, UpdateUser, User, UserListQuery, UserPage};
use super::store::{self as users, Changes, NewUser};

/// Create a user account.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    principal: Principal,
    request: RequestId,
    body: ApiJson<CreateUser>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::UserWrite, Resource::Collection)?;
    let new = body.0;
    if let Some(message) = password::weakness(
        &new.password,
        &new.username,
        auth.settings.password_min_chars,
    ) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "password", message,
        )]));
    }
    let secret = new.password.clone();
    let hash = web::block(move || password::hash(&secret))
        .await
        .map_err(ApiError::internal)??;
    let user = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let row = users::create(
                    conn,
                    NewUser {
                        username: &new.username,
                        display_name: &new.display_name,
                        password_hash: &hash,
                        role: new.role,
                        city_ids: &new.city_ids,
                        organisation_id: new.organisation_id,
                    },
                )?;
                let id = UserId::from_db(&row.id).map_err(ApiError::internal)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::UserCreate,
                        Outcome::Success,
                    )
                    .entity(Entity::User, id.as_uuid())
                    .detail(format!("role {}", new.role)),
                )?;
                let cities = users::cities_of(conn, id)?;
                users::view(&row, cities)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(user))
}

/// List user accounts, by username.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    req: HttpRequest,
    principal: Principal,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::UserRead, Resource::Collection)?;
    let query: UserListQuery = extract::parse_query(&req)?;
    let limit = i64::from(extract::page_size(&req, query.limit));
    let page = db
        .run(move |conn| {
            let rows = users::list(conn, query.cursor.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            let items = rows
                .into_iter()
                .take(limit as usize)
                .map(|(row, cities)| users::view(&row, cities))
                .collect::<Result<Vec<User>, ApiError>>()?;
            let next_cursor = more
                .then(|| items.last().map(|u| u.username.clone()))
                .flatten();
            Ok(UserPage { items, next_cursor })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One user account.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    principal: Principal,
    id: web::Path<UserId>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::UserRead, Resource::Collection)?;
    let id = id.into_inner();
    let user = db
        .run(move |conn| {
            let row = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
            let cities = users::cities_of(conn, id)?;
            users::view(&row, cities)
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change a user's name, role, cities, organisation or active flag. A change
/// to what they may reach ends their sessions at once.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    principal: Principal,
    request: RequestId,
    id: web::Path<UserId>,
    body: ApiJson<UpdateUser>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::UserWrite, Resource::Collection)?;
    let id = id.into_inner();
    let patch = body.0;
    let user = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let before = users::find(conn, id)?.ok_or(ApiError::NotFound)?;
                let row = users::update(
                    conn,
                    id,
                    Changes {
                        display_name: patch.display_name,
                        role: patch.role,
                        city_ids: patch.city_ids,
                        organisation_id: patch.organisation_id,
                        active: patch.active,
                    },
                )?;
                let sessions_ended = row.token_version != before.token_version;
                if sessions_ended {
                    refresh::revoke_all(conn, id)?;
                }
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::UserUpdate,
                        Outcome::Success,
                    )
                    .entity(Entity::User, id.as_uuid())
                    .detail(format!(
                        "role {}; access changed: {sessions_ended}",
                        row.role
                    )),
                )?;
                let cities = users::cities_of(conn, id)?;
                users::view(&row, cities)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
