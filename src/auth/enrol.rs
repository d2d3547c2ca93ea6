//! `POST /auth/enrol`: a person sets their own password with the one-time
//! code their account was given. The code is checked in the transaction
//! that takes the attempt's throttle slots (so a wrong code stays counted),
//! the new password is hashed on a password worker, and the code is spent
//! by a conditional update: of two enrolments racing with one code, one
//! wins and the other changes nothing.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::db::{Database, write_transaction};
use crate::domain::time;
use crate::error::{ApiError, FieldError, Problem};
use crate::users::enrolment;
use crate::web::extract::ApiJson;
use crate::web::telemetry::RequestId;

use super::password;
use super::state::{self, AuthState};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// The code the account was given (shown once to whoever made or
    /// approved it); spaces and dashes are ignored.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub enrolment_code: String,
    /// At least `auth.password_min_chars` characters (12 unless raised),
    /// at least 5 different ones, not a common password and not containing
    /// the username.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

fn failed(request: &RequestId) -> NewEvent {
    NewEvent::new(audit::Action::AuthEnrol, Outcome::Failure).request(request)
}

/// Set one's own password with an enrolment code. The code works once;
/// the account can then sign in.
#[utoipa::path(
    tag = "auth",
    request_body = EnrolRequest,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        (status = 422, description = "The code is wrong, expired or used (or names no account: the answer is the same), or the new password is weak; `errors` names the field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this username or from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/enrol")]
pub async fn enrol(
    req: HttpRequest,
    request: RequestId,
    body: ApiJson<EnrolRequest>,
    auth: web::Data<AuthState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let EnrolRequest {
        username,
        enrolment_code,
        new_password,
    } = body.0;
    if let Some(message) =
        password::weakness(&new_password, &username, auth.settings.password_min_chars)
    {
        return Err(FieldError::new("new_password", message).into());
    }
    let (attempt, slot) = auth.attempt_with_work(&req, &username)?;
    let code = enrolment::code_hash(&enrolment_code);
    let (lookup, checked, refused) = (username.clone(), code.clone(), failed(&request));
    let throttled = failed(&request).detail("throttled");
    let account = state::reserve(&auth, &db, attempt.keys.clone(), throttled, move |conn| {
        match enrolment::check(conn, &lookup, &checked, time::now()) {
            Ok(row) => Ok(row),
            Err(refusal) => {
                audit::append(conn, &refused)?;
                Err(refusal)
            }
        }
    })
    .await?;
    let hash = auth
        .work
        .run(slot, move || password::hash(&new_password))
        .await??;
    let (state, keys) = (auth.clone(), attempt.keys.clone());
    db.run(move |conn| {
        write_transaction(conn, |conn| {
            let now: NaiveDateTime = time::now();
            let spent = enrolment::complete(conn, account.id, &code, &hash, now)?;
            if !spent {
                audit::append(
                    conn,
                    &failed(&request).entity(Entity::User, account.id.as_uuid()),
                )?;
                return Ok(Err(enrolment::refused()));
            }
            state.throttle.succeeded(conn, &keys)?;
            audit::append(
                conn,
                &NewEvent::new(audit::Action::AuthEnrol, Outcome::Success)
                    .actor(account.id.as_uuid(), account.role.as_str())
                    .entity(Entity::User, account.id.as_uuid())
                    .request(&request),
            )?;
            Ok(Ok(()))
        })
        .and_then(|answer| answer)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
