//! The second person: `POST /users/{id}/approve` and `/reject` decide the
//! grant waiting on an account; `POST /users/{id}/reset` clears an
//! account's password and second factor (recovery, or a suspected theft).
//! Who may decide is `policy::authorize_account`'s.

use actix_web::{HttpResponse, post, web};

use crate::audit::{self, Entity};
use crate::auth::guard::Tx;
use crate::auth::policy::Action;
use crate::auth::state::AuthState;
use crate::domain::UserId;
use crate::error::{ApiError, Problem};
use crate::web::context::Context;
use crate::web::extract::ApiJson;

use super::account::Account;
use super::grants;
use super::model::{Decision, Enrolment, User};
use super::requests::GrantRequestRow;
use super::routes::{code_ttl, enrolment};
use super::store as users;

/// The event of a decision on `grant`: what it was, never who it names.
fn decided(tx: &Tx<'_>, action: audit::Action, grant: &GrantRequestRow) -> audit::NewEvent {
    tx.event(action)
        .entity(Entity::User, grant.user_id.as_uuid())
        .detail(format!("{} of role {}", grant.kind.as_str(), grant.role))
}

/// Approve the grant waiting on an account, named by its id as read in
/// `pending_grant.id`. A city supervisor of every city it concerns decides
/// an account held in cities; another admin a provider's; never the
/// requester, nor the account itself. Approving a new or reset account
/// gives the approver its one-time enrolment code, to hand to the person.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    request_body = Decision,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Approved; `enrolment_code` is set for a new or reset account", body = Enrolment),
        (status = 422, description = "`request_id` names no grant of this account waiting for a decision (unknown, or decided already)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/approve")]
pub async fn approve_user(
    ctx: Context,
    id: web::Path<UserId>,
    body: ApiJson<Decision>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let ttl = code_ttl(&auth);
    let answer = ctx
        .on_account(
            Action::UserApprove,
            id.into_inner(),
            Ok(body.0),
            move |tx, account: Account, decision| {
                let grant = account.pending_named(decision.request_id)?;
                let by = tx.principal.user_id;
                let (row, code) = grants::approve(tx.conn, grant, Some(by), ttl)?;
                let event = decided(tx, audit::Action::UserApprove, grant);
                let user = users::load_view(tx.conn, &row)?;
                Ok((enrolment(user, code), Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Reject the grant waiting on an account: nothing it asked applies, and a
/// new account is rejected for good. The same people may reject as may
/// approve.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    request_body = Decision,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 422, description = "`request_id` names no grant of this account waiting for a decision (unknown, or decided already)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/reject")]
pub async fn reject_user(
    ctx: Context,
    id: web::Path<UserId>,
    body: ApiJson<Decision>,
) -> Result<HttpResponse, ApiError> {
    let user = ctx
        .on_account(
            Action::UserApprove,
            id.into_inner(),
            Ok(body.0),
            |tx, account: Account, decision| {
                let grant = account.pending_named(decision.request_id)?;
                let row = grants::reject(tx.conn, grant, Some(tx.principal.user_id))?;
                let event = decided(tx, audit::Action::UserReject, grant);
                Ok((users::load_view(tx.conn, &row)?, Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Reset an account: its password and second factor are cleared and every
/// session ends at once. The answer carries a new enrolment code, or, for
/// an account that can see people, none: the reset waits for a second
/// person, who is given the code on approving it. Nobody resets their own
/// account.
#[utoipa::path(
    tag = "users",
    params(("id" = String, Path, format = Uuid)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Enrolment),
        (status = 409, description = "A grant for this account is waiting for a decision, or the account was never approved", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/reset")]
pub async fn reset_user(
    ctx: Context,
    id: web::Path<UserId>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let ttl = code_ttl(&auth);
    let answer = ctx
        .on_account(
            Action::UserWrite,
            id.into_inner(),
            Ok(()),
            move |tx, account: Account, ()| {
                let made = grants::reset(tx.conn, &account, tx.principal.user_id, ttl)?;
                let detail = match &made.waiting {
                    Some(grant) => {
                        format!("sessions ended; waits for a {}", grant.approver.as_str())
                    }
                    None => "sessions ended; enrolment code issued".to_string(),
                };
                let event = tx
                    .event(audit::Action::UserReset)
                    .entity(Entity::User, made.row.id.as_uuid())
                    .detail(detail);
                let user: User = users::load_view(tx.conn, &made.row)?;
                Ok((enrolment(user, made.code), Some(event)))
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
