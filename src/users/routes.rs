//! Admin management of user accounts: `POST /users`, `GET /users`,
//! `GET /users/{id}`, `PATCH /users/{id}`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::audit::{self, Entity};
use crate::auth::password;
use crate::auth::policy::Action;
use crate::auth::routes::AuthState;
use crate::auth::store as refresh;
use crate::domain::UserId;
use crate::error::{ApiError, FieldError, Problem};
use crate::pagination::{Page, PageRequest};
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::model::{CreateUser, UpdateUser, User, UserListQuery, UserPage};
use super::store::{self as users, Changes, NewUser};

/// Create a user account.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = User),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    ctx: Context,
    body: ApiJson<CreateUser>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    ctx.may(Action::UserWrite).await?;
    let new = body.0;
    let min_chars = auth.settings.password_min_chars;
    if let Some(message) = password::weakness(&new.password, &new.username, min_chars) {
        return Err(FieldError::new("password", message).into());
    }
    let secret = new.password.clone();
    let hash = web::block(move || password::hash(&secret))
        .await
        .map_err(ApiError::internal)??;
    let user = ctx
        .on_collection(Action::UserWrite, Ok(hash), move |tx, _, hash| {
            let row = users::create(
                tx.conn,
                NewUser {
                    username: &new.username,
                    display_name: &new.display_name,
                    password_hash: &hash,
                    role: new.role,
                    city_ids: &new.city_ids,
                    organisation_id: new.organisation_id,
                },
            )?;
            let event = tx
                .event(audit::Action::UserCreate)
                .entity(Entity::User, row.id.as_uuid());
            let view = users::load_view(tx.conn, &row)?;
            Ok((view, Some(event.detail(format!("role {}", new.role)))))
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
    responses((status = 200, body = UserPage))
)]
#[get("/users")]
pub async fn list_users(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let query = extract::parse_query::<UserListQuery>(&req);
    let page = query.and_then(|q| ctx.page::<String>(q.limit, q.cursor.as_deref()));
    let page = ctx
        .on_collection(
            Action::UserRead,
            page,
            |tx, _, page: PageRequest<String>| {
                let (rows, next_cursor) = page.cut(users::list(tx.conn, &page)?, users::position);
                let items = rows
                    .into_iter()
                    .map(|(row, cities)| users::view(&row, cities))
                    .collect::<Result<Vec<User>, ApiError>>()?;
                Ok((Page { items, next_cursor }, None))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One user account.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = User))
)]
#[get("/users/{id}")]
pub async fn get_user(ctx: Context, id: web::Path<UserId>) -> Result<HttpResponse, ApiError> {
    let user = ctx
        .on_collection(Action::UserRead, Ok(id.into_inner()), |tx, _, id| {
            let row = users::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
            Ok((users::load_view(tx.conn, &row)?, None))
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
    responses((status = 200, body = User))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    ctx: Context,
    id: web::Path<UserId>,
    body: ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let UpdateUser {
        display_name,
        role,
        city_ids,
        organisation_id,
        active,
    } = body.0;
    let changes = Changes {
        display_name,
        role,
        city_ids,
        organisation_id,
        active,
    };
    let user = ctx
        .on_collection(Action::UserWrite, Ok(id.into_inner()), move |tx, _, id| {
            let before = users::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
            let row = users::update(tx.conn, id, changes)?;
            let sessions_ended = row.token_version != before.token_version;
            if sessions_ended {
                refresh::revoke_all(tx.conn, id)?;
            }
            let detail = format!("role {}; access changed: {sessions_ended}", row.role);
            let event = tx
                .event(audit::Action::UserUpdate)
                .entity(Entity::User, id.as_uuid());
            Ok((users::load_view(tx.conn, &row)?, Some(event.detail(detail))))
        })
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
