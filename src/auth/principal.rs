//! The signed-in caller. Extracting a `Principal` verifies the bearer token
//! and then re-reads the user, so a disabled account, or a role, city or
//! organisation change (which bumps `token_version`), takes effect on the
//! very next request. An account whose role must sign in with a second
//! factor (`auth.totp_required_roles`) and has none yet is marked
//! `second_factor_missing`: the policy then lets it do only what every
//! role may (its own account, enrolling the second factor, reading places).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::db::Database;
use crate::domain::{CityId, OrganisationId, Role, UserId};
use crate::error::ApiError;
use crate::users::store as users;
use crate::web::telemetry::RequestId;

use super::state::AuthState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub city_ids: Vec<CityId>,
    pub organisation_id: Option<OrganisationId>,
    pub token_version: i64,
    /// Whether the account signs in with a second factor.
    pub totp_enabled: bool,
    /// The role needs a second factor and the account has none yet.
    pub second_factor_missing: bool,
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let auth = req.app_data::<web::Data<AuthState>>().cloned();
        let db = req.app_data::<web::Data<Database>>().cloned();
        let request_id = req.extensions().get::<RequestId>().cloned();
        Box::pin(async move {
            let (Some(auth), Some(db)) = (auth, db) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "auth state or database missing from app data"
                )));
            };
            let token = token.ok_or(ApiError::Unauthorized)?;
            let claims = auth.keys.verify(&token)?;
            let user_id: UserId = claims.sub.parse().map_err(|_| ApiError::Unauthorized)?;
            let mut principal = db
                .run(move |conn| users::load_principal(conn, user_id))
                .await?
                .ok_or(ApiError::Unauthorized)?;
            principal.second_factor_missing =
                auth.settings.totp_required(principal.role) && !principal.totp_enabled;
            if principal.token_version != claims.tv {
                tracing::info!(
                    user_id = %user_id,
                    request_id = request_id.as_ref().map(|r| r.0.as_str()),
                    "token refused: issued before an account change"
                );
                return Err(ApiError::Unauthorized);
            }
            Ok(principal)
        })
    }
}

#[cfg(test)]
mod properties {
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any Authorization header gives a trimmed, non-empty bearer token
        /// or none; never a panic.
        #[test]
        fn any_authorization_header_is_read_safely(value in "\\PC{0,200}", scheme in "(?i)bearer|basic|[a-z]{0,8}") {
            let header = format!("{scheme} {value}");
            if let Ok(header_value) = actix_web::http::header::HeaderValue::from_str(&header) {
                let req = TestRequest::default()
                    .insert_header((AUTHORIZATION, header_value))
                    .to_http_request();
                if let Some(token) = bearer(&req) {
                    prop_assert!(scheme.eq_ignore_ascii_case("bearer"));
                    prop_assert!(!token.is_empty() && token == token.trim());
                }
            }
        }

        /// Header bytes that are not text are no token.
        #[test]
        fn non_text_headers_are_no_token(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(&bytes) {
                let req = TestRequest::default()
                    .insert_header((AUTHORIZATION, value))
                    .to_http_request();
                let _ = bearer(&req);
            }
        }
    }
}
