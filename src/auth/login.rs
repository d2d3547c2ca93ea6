//! `POST /auth/login`. In order:
//!
//! 1. a place among the sign-ins in flight from the client's address (429),
//!    and a password worker's slot (503 with `Retry-After`, at once);
//! 2. the attempt's slots in the throttle, per username and per address,
//!    taken and committed with the account read (429 past a budget);
//! 3. the password checked on a password worker: against the account's
//!    hash, or a dummy hash for an account that cannot sign in (unknown,
//!    disabled, waiting for approval or enrolment), at the same cost;
//! 4. the second factor's code, when the account has one;
//! 5. success: the username's count cleared, the address's slot given back,
//!    a refresh-token family begun, all with the audit event.
//!
//! A failure at 3 or 4 keeps its slots taken until the window ends.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::crypto::Keyring;
use crate::db::{Database, write_transaction};
use crate::domain::time;
use crate::error::{ApiError, Problem};
use crate::users::model::UserRow;
use crate::users::store as users;
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::password::{self, Verified};
use super::routes::TokenPair;
use super::state::{self, AuthState};
use super::store as refresh;
use super::totp;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
    /// The current code of the account's second factor, when it has one.
    #[validate(custom(function = "six_digits"))]
    #[schema(pattern = "^[0-9]{6}$")]
    pub totp_code: Option<String>,
}

/// A second factor's code: six ASCII digits.
pub fn six_digits(code: &str) -> Result<(), validator::ValidationError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        let mut err = validator::ValidationError::new("totp_code");
        err.message = Some("must be six digits".into());
        Err(err)
    }
}

/// Sign in with a username and password, and the second factor's code when
/// the account has one.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "Wrong username or password (no hint which); or, after a right password, a second factor's code missing, wrong or used before (`errors` names `totp_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this username or from this address, or too many at once from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every password worker is busy and the queue is full (nothing was checked), or the database cannot be reached; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    request: RequestId,
    body: ApiJson<LoginRequest>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
    keyring: web::Data<Keyring>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest {
        username,
        password,
        totp_code,
    } = body.0;
    let (attempt, slot) = auth.attempt_with_work(&req, &username)?;
    let throttled = NewEvent::new(audit::Action::AuthLoginFailed, Outcome::Denied)
        .request(&request)
        .detail("throttled");
    let lookup = username.clone();
    let account = state::reserve(&auth, &db, attempt.keys.clone(), throttled, move |conn| {
        users::find_by_username(conn, &lookup)
    })
    .await?;
    let stored = match &account {
        Some(row) if row.can_sign_in() => row.password_hash.clone(),
        _ => auth.dummy_hash.clone(),
    };
    let typed = password.clone();
    let verified = auth
        .work
        .run(slot, move || password::verify(&typed, &stored))
        .await?;
    let row = match account {
        Some(row) if row.can_sign_in() && verified != Verified::Mismatch => row,
        other => {
            tracing::info!("login failed");
            // The event names the account when there is one; the client is
            // told nothing either way.
            let mut event =
                NewEvent::new(audit::Action::AuthLoginFailed, Outcome::Failure).request(&request);
            if let Some(id) = other.map(|r| r.id) {
                event = event.entity(Entity::User, id.as_uuid());
            }
            db.run(move |conn| audit::append(conn, &event)).await?;
            return Err(ApiError::Unauthorized);
        }
    };
    let rehash = match (verified, auth.work.slot()) {
        (Verified::NeedsRehash, Some(slot)) => Some(
            auth.work
                .run(slot, move || password::hash(&password))
                .await??,
        ),
        _ => None,
    };
    let (user_id, token_version) = (row.id, row.token_version);
    let state = auth.clone();
    let keys = attempt.keys.clone();
    let ttl = auth.settings.refresh_token_ttl_secs;
    let refresh_token = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                if let Some(refusal) = second_factor(conn, &keyring, &row, totp_code.as_deref())? {
                    audit::append(
                        conn,
                        &NewEvent::new(audit::Action::AuthLoginFailed, Outcome::Failure)
                            .entity(Entity::User, row.id.as_uuid())
                            .request(&request)
                            .detail("second factor missing, wrong or used before"),
                    )?;
                    return Ok(Err(refusal));
                }
                state.throttle.succeeded(conn, &keys)?;
                if let Some(hash) = rehash {
                    users::set_password(conn, row.id, &hash, false)?;
                }
                audit::append(
                    conn,
                    &NewEvent::new(audit::Action::AuthLogin, Outcome::Success)
                        .actor(row.id.as_uuid(), row.role.as_str())
                        .entity(Entity::User, row.id.as_uuid())
                        .request(&request),
                )?;
                refresh::issue(conn, row.id, None, ttl).map(Ok)
            })
            .and_then(|answer| answer)
        })
        .await?;
    tracing::info!(user_id = %user_id, "login succeeded");
    Ok(HttpResponse::Ok().json(auth.pair(user_id, token_version, refresh_token)?))
}

/// Why the second factor refuses this sign-in, if it does: none is needed
/// when the account has none on; otherwise the code must be the current one
/// and unused (and is spent).
fn second_factor(
    conn: &mut crate::db::AnyConnection,
    keyring: &Keyring,
    row: &UserRow,
    code: Option<&str>,
) -> Result<Option<ApiError>, ApiError> {
    if !row.totp_enabled() {
        return Ok(None);
    }
    Ok(match code {
        None => Some(ApiError::SecondFactor("is required for this account")),
        Some(code) if totp::spend(conn, keyring, row, code, time::now())? => None,
        Some(_) => Some(ApiError::SecondFactor(
            "is not the current code, or was used before",
        )),
    })
}
