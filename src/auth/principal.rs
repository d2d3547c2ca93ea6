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

use super::settings::AuthSettings;
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

/// What a verified bearer token says: whose it is and the account's
/// `token_version` when it was issued. Checking it costs no database visit;
/// [`Bearer::principal`] then reads the account, once per request, on the
/// connection that does the request's work.
#[derive(Debug, Clone, Copy)]
pub struct Bearer {
    pub user_id: UserId,
    pub token_version: i64,
}

impl Bearer {
    /// The bearer token of the request, its signature, issuer, audience and
    /// times checked: 401 when absent or wrong.
    pub fn of(req: &HttpRequest, auth: &AuthState) -> Result<Bearer, ApiError> {
        let token = bearer(req).ok_or(ApiError::Unauthorized)?;
        let claims = auth.keys.verify(&token)?;
        let user_id: UserId = claims.sub.parse().map_err(|_| ApiError::Unauthorized)?;
        Ok(Bearer {
            user_id,
            token_version: claims.tv,
        })
    }

    /// The account as it is now: 401 when it is gone, disabled, not
    /// approved, or changed since the token was issued (every change of
    /// role, cities or organisation bumps `token_version`), so that a
    /// revocation takes effect on the very next request.
    pub fn principal(
        self,
        conn: &mut crate::db::AnyConnection,
        settings: &AuthSettings,
        request: Option<&RequestId>,
    ) -> Result<Principal, ApiError> {
        let mut principal =
            users::load_principal(conn, self.user_id)?.ok_or(ApiError::Unauthorized)?;
        if principal.token_version != self.token_version {
            tracing::info!(
                user_id = %self.user_id,
                request_id = request.map(|r| r.0.as_str()),
                "token refused: issued before an account change"
            );
            return Err(ApiError::Unauthorized);
        }
        principal.second_factor_missing =
            settings.totp_required(principal.role) && !principal.totp_enabled;
        Ok(principal)
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<AuthState>>().cloned();
        let db = req.app_data::<web::Data<Database>>().cloned();
        let request_id = req.extensions().get::<RequestId>().cloned();
        let (Some(auth), Some(db)) = (auth, db) else {
            return Box::pin(async {
                Err(ApiError::internal(anyhow::anyhow!(
                    "auth state or database missing from app data"
                )))
            });
        };
        let bearer = Bearer::of(req, &auth);
        Box::pin(async move {
            let bearer = bearer?;
            db.run(move |conn| bearer.principal(conn, &auth.settings, request_id.as_ref()))
                .await
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
