//! Staff accounts: `POST /users`, `GET /users`, `GET /users/{id}`,
//! `PATCH /users/{id}`. Deciding grants and resetting accounts is
//! `review.rs`; the lifecycle itself `grants.rs`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Duration;

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::Action;
use crate::auth::state::AuthState;
use crate::domain::{Reach, UserId, time};
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageRequest};
use crate::web::context::Context;
use crate::web::extract::{self, ApiJson};

use super::account::Account;
use super::enrolment::Issued;
use super::grants::{self, Changed};
use super::model::{CreateUser, Enrolment, UpdateUser, User, UserListQuery, UserPage};
use super::store as users;

/// How long the codes issued now stay good.
pub fn code_ttl(auth: &AuthState) -> Duration {
    Duration::hours(i64::try_from(auth.settings.enrolment_code_ttl_hours).unwrap_or(72))
}

/// The answer that shows an enrolment code, once.
pub fn enrolment(user: User, code: Option<Issued>) -> Enrolment {
    let (enrolment_code, expires_at) = match code {
        Some(issued) => (Some(issued.code), Some(time::to_utc(issued.expires_at))),
        None => (None, None),
    };
    Enrolment {
        user,
        enrolment_code,
        expires_at,
    }
}

/// Create a staff account. It has no password: the answer carries a
/// one-time enrolment code for the person, or, for an account that can see
/// people, none yet: it waits for a second person (a city supervisor of
/// every one of its cities, or another admin for provider staff), who is
/// given the code on approving it.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Enrolment),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    ctx: Context,
    body: ApiJson<CreateUser>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let ttl = code_ttl(&auth);
    let answer = ctx
        .on_collection(Action::UserWrite, Ok(body.0), move |tx, _, new| {
            let reach = Reach::new(new.role, &new.city_ids, new.organisation_id);
            let by = tx.principal.user_id;
            let made = grants::create(tx.conn, by, &new.username, &new.display_name, &reach, ttl)?;
            let detail = match &made.waiting {
                Some(grant) => {
                    format!("role {}; waits for a {}", new.role, grant.approver.as_str())
                }
                None => format!("role {}; enrolment code issued", new.role),
            };
            let event = tx
                .event(audit::Action::UserCreate)
                .entity(Entity::User, made.row.id.as_uuid())
                .detail(detail);
            let user = users::load_view(tx.conn, &made.row)?;
            Ok((enrolment(user, made.code), Some(event)))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", answer.user.id)))
        .json(answer))
}

/// List staff accounts, by username. Admins see every account
/// (`pending=true`: those with a grant waiting); a city supervisor sees the
/// accounts whose waiting grant they may decide.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    security(("bearer" = [])),
    responses((status = 200, body = UserPage))
)]
#[get("/users")]
pub async fn list_users(req: HttpRequest, ctx: Context) -> Result<HttpResponse, ApiError> {
    let query = extract::parse_query::<UserListQuery>(&req);
    let input = query.and_then(|q| {
        let page = ctx.page::<String>(q.limit, q.cursor.as_deref())?;
        Ok((q.pending.unwrap_or(false), page))
    });
    let page = ctx
        .on_collection(
            Action::UserRead,
            input,
            |tx, scope, (pending, page): (bool, PageRequest<String>)| {
                let rows = users::list(tx.conn, &scope, pending, &page)?;
                let (rows, next_cursor) = page.cut(rows, users::position);
                let items = rows
                    .into_iter()
                    .map(|(row, cities, grant)| users::view(&row, cities, grant.as_ref()))
                    .collect::<Vec<User>>();
                Ok((Page { items, next_cursor }, None))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One staff account.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses((status = 200, body = User))
)]
#[get("/users/{id}")]
pub async fn get_user(ctx: Context, id: web::Path<UserId>) -> Result<HttpResponse, ApiError> {
    let user = ctx
        .on_account(
            Action::UserRead,
            id.into_inner(),
            Ok(()),
            |tx, account: Account, ()| Ok((users::load_view(tx.conn, &account.row)?, None)),
        )
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change an account's name or active flag (at once), or its role, cities
/// or organisation: at once when that gives no access to people or only
/// takes some away, otherwise waiting for a second person
/// (`pending_grant`). Nobody changes their own account here (403), and no
/// account moves between the roles that see people and those that do not
/// (422 naming `role`). A change to what the account reaches ends its
/// sessions.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 409, description = "A grant for this account is waiting for a decision", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    ctx: Context,
    id: web::Path<UserId>,
    body: ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let user = ctx
        .on_account(Action::UserWrite, id.into_inner(), Ok(body.0), update)
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

fn update(
    tx: &mut Tx<'_>,
    account: Account,
    changes: UpdateUser,
) -> Result<(User, Option<audit::NewEvent>), ApiError> {
    let id = account.row.id;
    let reach_asked =
        changes.role.is_some() || changes.city_ids.is_some() || changes.organisation_id.is_some();
    let changed = if reach_asked {
        let before = account.reach(tx.conn)?;
        let after = Reach::new(
            changes.role.unwrap_or(before.role),
            changes.city_ids.as_deref().unwrap_or(&before.cities),
            changes.organisation_id.unwrap_or(before.organisation),
        );
        grants::change_reach(tx.conn, &account, &after, tx.principal.user_id)?
    } else {
        Changed::Nothing
    };
    let ended = users::update_profile(
        tx.conn,
        &account.row,
        changes.display_name.as_deref(),
        changes.active,
    )?;
    let row = users::find(tx.conn, id)?.ok_or(ApiError::NotFound)?;
    let grant = match &changed {
        Changed::Nothing => None,
        Changed::Applied => Some(format!("role {}; applied", row.role)),
        Changed::Waiting(grant) => Some(format!(
            "role {} asked; waits for a {}",
            grant.role,
            grant.approver.as_str()
        )),
    };
    let grant = grant.map(|detail| {
        tx.event(audit::Action::UserGrant)
            .entity(Entity::User, id.as_uuid())
            .detail(detail)
    });
    let profile_asked = changes.display_name.is_some() || changes.active.is_some();
    let event = match grant {
        Some(grant) if !profile_asked => grant,
        grant => {
            if let Some(grant) = grant {
                audit::append(tx.conn, &grant)?;
            }
            tx.event(audit::Action::UserUpdate)
                .entity(Entity::User, id.as_uuid())
                .detail(format!("active {}; sessions ended: {ended}", row.active))
        }
    };
    Ok((users::load_view(tx.conn, &row)?, Some(event)))
}
