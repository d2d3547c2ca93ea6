//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me`,
//! `POST /me/password` and `GET /.well-known/jwks.json`.

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::db::Database;
use crate::domain::UserId;
use crate::error::{ApiError, FieldError, Problem};
use crate::settings::AuthSettings;
use crate::users::model::{ChangePassword, Me};
use crate::users::store as users;
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::Principal;
use super::jwt::{Jwks, TokenKeys};
use super::password::{self, Verified};
use super::policy::{self, Action, Resource};
use super::store::{self as refresh, Spent};
use super::throttle::LoginThrottle;
use super::trail;

/// What the auth routes share, built once at start-up.
pub struct AuthState {
    pub keys: TokenKeys,
    pub settings: AuthSettings,
    pub throttle: LoginThrottle,
    /// Verified against when the username is unknown, to spend the same time.
    pub dummy_hash: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, pattern = "^Bearer$")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(minimum = 1)]
    pub expires_in: i64,
    pub refresh_token: String,
}

fn client_address(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

fn pair(
    auth: &AuthState,
    user: UserId,
    token_version: i64,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: auth.keys.issue(user, token_version)?,
        token_type: "Bearer",
        expires_in: auth.keys.ttl_secs(),
        refresh_token,
    })
}

/// Runs a password check off the async executor (Argon2 is deliberately slow).
async fn check_password(password: String, stored: String) -> Result<Verified, ApiError> {
    web::block(move || password::verify(&password, &stored))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("password check failed: {e}")))
}

/// Sign in with a username and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Wrong username or password (no hint which)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    request: RequestId,
    body: ApiJson<LoginRequest>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.0;
    let address = client_address(&req);
    if let Some(retry_after_secs) = auth.throttle.retry_after(&username, address) {
        let event = NewEvent::new(audit::Action::AuthLoginFailed, Outcome::Denied)
            .request(&request)
            .detail("throttled");
        db.run(move |conn| audit::append(conn, &event)).await?;
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let lookup = username.clone();
    let user = db
        .run(move |conn| users::find_by_username(conn, &lookup))
        .await?;
    // Unknown and disabled users are checked against a dummy hash so that
    // every failure costs the same time and says the same thing.
    let stored = match &user {
        Some(row) if row.active => row.password_hash.clone(),
        _ => auth.dummy_hash.clone(),
    };
    let verified = check_password(password.clone(), stored).await?;
    let user = match (user, verified) {
        (Some(row), Verified::Current | Verified::NeedsRehash) if row.active => row,
        (row, _) => {
            auth.throttle.record_failure(&username, address);
            tracing::info!("login failed");
            // The event names the account when there is one; the client is
            // told nothing either way.
            let mut event =
                NewEvent::new(audit::Action::AuthLoginFailed, Outcome::Failure).request(&request);
            if let Some(id) = row.map(|r| r.id) {
                event = event.entity(Entity::User, id.as_uuid());
            }
            db.run(move |conn| audit::append(conn, &event)).await?;
            return Err(ApiError::Unauthorized);
        }
    };
    auth.throttle.record_success(&username);
    let user_id = user.id;
    let rehash = if verified == Verified::NeedsRehash {
        Some(
            web::block(move || password::hash(&password))
                .await
                .map_err(ApiError::internal)??,
        )
    } else {
        None
    };
    let ttl = auth.settings.refresh_token_ttl_secs;
    let role = user.role;
    let refresh_token = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                if let Some(hash) = rehash {
                    users::set_password(conn, user_id, &hash, false)?;
                }
                audit::append(
                    conn,
                    &NewEvent::new(audit::Action::AuthLogin, Outcome::Success)
                        .actor(user_id.as_uuid(), role.as_str())
                        .entity(Entity::User, user_id.as_uuid())
                        .request(&request),
                )?;
                refresh::issue(conn, user_id, None, ttl)
            })
        })
        .await?;
    tracing::info!(user_id = %user_id, "login succeeded");
    Ok(HttpResponse::Ok().json(pair(&auth, user_id, user.token_version, refresh_token)?))
}

/// Trade a refresh token for a new pair; the presented token is spent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Unknown, expired, revoked or already spent (which revokes its family)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh_tokens(
    request: RequestId,
    body: ApiJson<RefreshRequest>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    let ttl = auth.settings.refresh_token_ttl_secs;
    // The transaction commits in every outcome: a reuse must leave its
    // family revoked even though the caller gets a 401.
    let outcome = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| match refresh::spend(conn, &presented)? {
                Spent::Fresh { user, family } => match users::load_principal(conn, user)? {
                    Some(principal) => {
                        let next = refresh::issue(conn, user, Some(&family), ttl)?;
                        audit::append(
                            conn,
                            &trail::event(
                                &principal,
                                &request,
                                audit::Action::AuthRefresh,
                                Outcome::Success,
                            )
                            .entity(Entity::User, user.as_uuid()),
                        )?;
                        Ok(Some((user, principal.token_version, next)))
                    }
                    None => {
                        refresh::revoke_family(conn, &family)?;
                        Ok(None)
                    }
                },
                Spent::Reused => {
                    tracing::warn!("a spent refresh token was presented; its family is revoked");
                    audit::append(
                        conn,
                        &NewEvent::new(audit::Action::AuthRefresh, Outcome::Denied)
                            .request(&request)
                            .detail("spent refresh token presented again; family revoked"),
                    )?;
                    Ok(None)
                }
                Spent::Invalid => Ok(None),
            })
        })
        .await?;
    let (user, token_version, next) = outcome.ok_or(ApiError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(pair(&auth, user, token_version, next)?))
}

/// End this session: its refresh-token family is revoked.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    principal: Principal,
    request: RequestId,
    body: ApiJson<RefreshRequest>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::SelfService, Resource::Collection)?;
    let token = body.0.refresh_token;
    db.run(move |conn| {
        crate::db::write_transaction(conn, |conn| {
            refresh::revoke_by_token(conn, principal.user_id, &token)?;
            audit::append(
                conn,
                &trail::event(
                    &principal,
                    &request,
                    audit::Action::AuthLogout,
                    Outcome::Success,
                )
                .entity(Entity::User, principal.user_id.as_uuid()),
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
    )
)]
#[get("/me")]
pub async fn me(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::SelfService, Resource::Collection)?;
    let id = principal.user_id;
    let row = db
        .run(move |conn| users::find(conn, id))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(Me {
        id,
        username: principal.username,
        display_name: row.display_name,
        role: principal.role,
        city_ids: principal.city_ids,
        organisation_id: principal.organisation_id,
    }))
}

/// Change one's own password. Every session of the account ends, this one
/// included: sign in again with the new password.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; every session has ended"),
        (status = 422, description = "Wrong current password, or a weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    req: HttpRequest,
    request: RequestId,
    principal: Principal,
    body: ApiJson<ChangePassword>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::SelfService, Resource::Collection)?;
    let ChangePassword {
        current_password,
        new_password,
    } = body.0;
    let address = client_address(&req);
    if let Some(retry_after_secs) = auth.throttle.retry_after(&principal.username, address) {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    if let Some(message) = password::weakness(
        &new_password,
        &principal.username,
        auth.settings.password_min_chars,
    ) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "new_password",
            message,
        )]));
    }
    let id = principal.user_id;
    let row = db
        .run(move |conn| users::find(conn, id))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if check_password(current_password, row.password_hash).await? == Verified::Mismatch {
        auth.throttle.record_failure(&principal.username, address);
        let event = trail::event(
            &principal,
            &request,
            audit::Action::AuthPasswordChange,
            Outcome::Failure,
        )
        .entity(Entity::User, id.as_uuid());
        db.run(move |conn| audit::append(conn, &event)).await?;
        return Err(ApiError::Validation(vec![FieldError::new(
            "current_password",
            "is not correct",
        )]));
    }
    let hash = web::block(move || password::hash(&new_password))
        .await
        .map_err(ApiError::internal)??;
    db.run(move |conn| {
        crate::db::write_transaction(conn, |conn| {
            users::set_password(conn, id, &hash, true)?;
            refresh::revoke_all(conn, id)?;
            audit::append(
                conn,
                &trail::event(
                    &principal,
                    &request,
                    audit::Action::AuthPasswordChange,
                    Outcome::Success,
                )
                .entity(Entity::User, id.as_uuid()),
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public keys that verify access tokens, by `kid`.
#[utoipa::path(tag = "auth", responses((status = 200, body = Jwks)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(auth: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok().json(auth.keys.jwks())
}
