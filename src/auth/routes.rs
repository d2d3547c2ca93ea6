//! `POST /auth/refresh`, `/auth/logout`, `GET /me`, `POST /me/password`,
//! `POST /me/totp`, `POST /me/totp/confirm` and `GET /.well-known/jwks.json`.
//! Signing in is `login.rs`, enrolling `enrol.rs`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::crypto::Keyring;
use crate::db::{Database, write_transaction};
use crate::domain::time;
use crate::error::{ApiError, FieldError, Problem};
use crate::users::model::{ChangePassword, Me};
use crate::users::store as users;
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::Principal;
use super::jwt::Jwks;
use super::password::{self, Verified};
use super::policy::{self, Action, Resource};
use super::state::{self, AuthState};
use super::store::{self as refresh, Spent};
use super::{totp, trail};

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
    Ok(HttpResponse::Ok().json(auth.pair(user, token_version, next)?))
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
pub async fn me(
    principal: Principal,
    db: web::Data<Database>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
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
        totp_enabled: principal.totp_enabled,
        totp_required: auth.settings.totp_required(principal.role),
    }))
}

/// Change one's own password. Every session of the account ends, this one
/// included: sign in again with the new password. A wrong current password
/// counts in the login throttle.
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
    let min_chars = auth.settings.password_min_chars;
    if let Some(message) = password::weakness(&new_password, &principal.username, min_chars) {
        return Err(FieldError::new("new_password", message).into());
    }
    let (attempt, slot) = auth.attempt_with_work(&req, &principal.username)?;
    let id = principal.user_id;
    let event = |outcome| {
        trail::event(
            &principal,
            &request,
            audit::Action::AuthPasswordChange,
            outcome,
        )
        .entity(Entity::User, id.as_uuid())
    };
    let throttled = event(Outcome::Denied).detail("throttled");
    let row = state::reserve(&auth, &db, attempt.keys.clone(), throttled, move |conn| {
        users::find(conn, id)?.ok_or(ApiError::Unauthorized)
    })
    .await?;
    let stored = row.password_hash;
    // The check and the new hash in one piece of work: one slot.
    let hash = auth
        .work
        .run(slot, move || {
            match password::verify(&current_password, &stored) {
                Verified::Mismatch => Ok(None),
                Verified::Current | Verified::NeedsRehash => {
                    password::hash(&new_password).map(Some)
                }
            }
        })
        .await??;
    let Some(hash) = hash else {
        let failed = event(Outcome::Failure);
        db.run(move |conn| audit::append(conn, &failed)).await?;
        return Err(FieldError::new("current_password", "is not correct").into());
    };
    let (done, keys, state) = (event(Outcome::Success), attempt.keys.clone(), auth.clone());
    db.run(move |conn| {
        write_transaction(conn, |conn| {
            users::set_password(conn, id, &hash, true)?;
            refresh::revoke_all(conn, id)?;
            state.throttle.succeeded(conn, &keys)?;
            audit::append(conn, &done)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A second factor's new secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSecret {
    /// For an authenticator app (as a QR code, or opened on the phone).
    #[schema(pattern = "^otpauth://totp/")]
    pub otpauth_uri: String,
    /// The same secret in base32, to type into an app by hand.
    #[schema(pattern = "^[A-Z2-7]+$")]
    pub secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    /// The code the authenticator app shows now.
    #[validate(custom(function = "super::login::six_digits"))]
    #[schema(pattern = "^[0-9]{6}$")]
    pub totp_code: String,
}

/// Begin a second factor (TOTP): a new secret, not in use until its first
/// code is confirmed (`POST /me/totp/confirm`). Beginning again replaces an
/// unconfirmed secret.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = TotpSecret),
        (status = 409, description = "A second factor is on already (an admin reset removes it)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/totp")]
pub async fn begin_totp(
    principal: Principal,
    request: RequestId,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::SelfService, Resource::Collection)?;
    let secret = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let row = users::find(conn, principal.user_id)?.ok_or(ApiError::Unauthorized)?;
                let secret = totp::begin(conn, &keyring, &row)?;
                audit::append(
                    conn,
                    &trail::event(
                        &principal,
                        &request,
                        audit::Action::AuthTotpEnrol,
                        Outcome::Success,
                    )
                    .entity(Entity::User, row.id.as_uuid()),
                )?;
                Ok(secret)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(TotpSecret {
        otpauth_uri: secret.otpauth_uri,
        secret: secret.secret,
    }))
}

/// Confirm the second factor with the code the app shows now: from then on
/// every sign-in needs a code, and every session of the account ends (sign
/// in again, with a code). A wrong code counts in the login throttle.
#[utoipa::path(
    tag = "auth",
    request_body = ConfirmTotp,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "On; every session has ended"),
        (status = 409, description = "No second factor is waiting for its first code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not the current code; `errors` names `totp_code`", body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/totp/confirm")]
pub async fn confirm_totp(
    req: HttpRequest,
    request: RequestId,
    principal: Principal,
    body: ApiJson<ConfirmTotp>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    policy::authorize(&principal, Action::SelfService, Resource::Collection)?;
    let code = body.0.totp_code;
    let attempt = auth.attempt(&req, &principal.username)?;
    let id = principal.user_id;
    let event = move |outcome| {
        trail::event(
            &principal,
            &request,
            audit::Action::AuthTotpConfirm,
            outcome,
        )
        .entity(Entity::User, id.as_uuid())
    };
    let throttled = event(Outcome::Denied).detail("throttled");
    let (state, keys) = (auth.clone(), attempt.keys.clone());
    state::reserve(&auth, &db, attempt.keys.clone(), throttled, move |conn| {
        let row = users::find(conn, id)?.ok_or(ApiError::Unauthorized)?;
        match totp::confirm(conn, &keyring, &row, &code, time::now()) {
            Ok(()) => {
                state.throttle.succeeded(conn, &keys)?;
                audit::append(conn, &event(Outcome::Success))
            }
            Err(refusal) => {
                audit::append(conn, &event(Outcome::Failure))?;
                Err(refusal)
            }
        }
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
