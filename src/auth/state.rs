//! What the auth routes share, built once at start-up, and the first steps
//! of every route that checks a secret (a password, an enrolment code, a
//! second factor's code):
//!
//! 1. [`AuthState::attempt`]: the client address, and a place among the
//!    checks in flight from it (429 beyond `auth.
//!    max_concurrent_logins_per_address`);
//! 2. for password work, a [`Slot`] of the password workers (503 at once
//!    when they and their queue are full, before anything else is done);
//! 3. [`reserve`]: the attempt's slots in the login throttle, taken and
//!    committed before the secret is checked (429 past a budget).

use actix_web::{HttpRequest, web};

use crate::audit::{self, NewEvent};
use crate::db::{AnyConnection, Database, write_transaction};
use crate::domain::{UserId, time};
use crate::error::ApiError;
use crate::settings::AuthSettings;

use super::address::{ClientAddresses, InFlight, InFlightGuard};
use super::jwt::TokenKeys;
use super::routes::TokenPair;
use super::throttle::{AttemptKeys, LoginThrottle};
use super::work::{PasswordWork, Slot};

pub struct AuthState {
    pub keys: TokenKeys,
    pub settings: AuthSettings,
    pub throttle: LoginThrottle,
    pub work: PasswordWork,
    pub addresses: ClientAddresses,
    pub in_flight: InFlight,
    /// Verified against when the account cannot sign in (unknown, disabled,
    /// pending, not enrolled), to spend the same time.
    pub dummy_hash: String,
}

/// One attempt at a secret, in flight.
pub struct Attempt {
    pub keys: AttemptKeys,
    _in_flight: InFlightGuard,
}

impl AuthState {
    /// Step 1: an attempt on `username` from the request's client address.
    pub fn attempt(&self, req: &HttpRequest, username: &str) -> Result<Attempt, ApiError> {
        let address = self.addresses.of(req);
        let in_flight = self
            .in_flight
            .enter(address)
            .ok_or(ApiError::TooManyRequests {
                retry_after_secs: 1,
            })?;
        Ok(Attempt {
            keys: self.throttle.keys(username, address),
            _in_flight: in_flight,
        })
    }

    /// Steps 1 and 2, for an attempt whose check is Argon2 work.
    pub fn attempt_with_work(
        &self,
        req: &HttpRequest,
        username: &str,
    ) -> Result<(Attempt, Slot), ApiError> {
        let attempt = self.attempt(req, username)?;
        let slot = self.work.slot_or_busy()?;
        Ok((attempt, slot))
    }

    /// A token pair: a new access token and this refresh token.
    pub fn pair(
        &self,
        user: UserId,
        token_version: i64,
        refresh_token: String,
    ) -> Result<TokenPair, ApiError> {
        Ok(TokenPair {
            access_token: self.keys.issue(user, token_version)?,
            token_type: "Bearer",
            expires_in: self.keys.ttl_secs(),
            refresh_token,
        })
    }
}

/// Step 3: takes the attempt's slots and runs `read` in the same write
/// transaction, which commits whatever `read` answers, its error included
/// (a wrong code stays counted). A spent budget appends `throttled` and is
/// answered 429, counting nothing.
pub async fn reserve<T, F>(
    auth: &web::Data<AuthState>,
    db: &Database,
    keys: AttemptKeys,
    throttled: NewEvent,
    read: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    let auth = auth.clone();
    db.run(move |conn| {
        write_transaction(conn, |conn| {
            match auth.throttle.reserve(conn, &keys, time::now()) {
                Ok(()) => Ok(read(conn)),
                Err(refusal @ ApiError::TooManyRequests { .. }) => {
                    audit::append(conn, &throttled)?;
                    Ok(Err(refusal))
                }
                Err(other) => Err(other),
            }
        })
        .and_then(|answer| answer)
    })
    .await
}
