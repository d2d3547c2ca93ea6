//! The second factor: TOTP (RFC 6238, by the `totp-rs` crate) with six
//! digits, 30-second steps and HMAC-SHA1, which every authenticator app
//! reads from an `otpauth://` URI, and one step of clock drift either way.
//!
//! The secret (160 random bits) is sealed like any personal field: under
//! the account's own data key (`data_keys`, subject = the user's id),
//! bound to `users.totp_secret_enc` and the user's id. A code works once:
//! the step it matched is stored, and a code of that step or an earlier one
//! is refused, by a conditional update, so that of two sign-ins racing with
//! one code only one wins.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ring::rand::SecureRandom;
use totp_rs::{Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::cases::data_keys;
use crate::crypto::{Keyring, Opened, Sealed};
use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::domain::UserId;
use crate::error::{ApiError, FieldError};
use crate::users::model::UserRow;
use crate::users::store as accounts;

const TABLE: &str = "users";
const COLUMN: &str = "totp_secret_enc";
/// Accounts are held in no city; the AAD's city part names none.
const NO_CITY: &str = "-";
/// What authenticator apps show the code under.
const ISSUER: &str = "Sanad";
const SECRET_BYTES: usize = 20;

/// A secret just made, shown once.
pub struct NewSecret {
    pub otpauth_uri: String,
    /// The same secret in base32, for typing into an app by hand.
    pub secret: String,
}

fn failed(what: &str) -> ApiError {
    // totp-rs errors can repeat their input; say only what failed.
    ApiError::internal(anyhow::anyhow!("second factor: {what}"))
}

fn totp(secret_base32: &str, username: &str) -> Result<Totp, ApiError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| failed("a stored secret is not base32"))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(username)
        .build()
        .map_err(|_| failed("the parameters were refused"))
}

/// The step `code` is right for at `now` (seconds since the epoch), if any.
fn step_of(
    secret_base32: &str,
    username: &str,
    code: &str,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let now = u64::try_from(now).map_err(|_| failed("the clock is before 1970"))?;
    let matched = totp(secret_base32, username)?.check(code.trim(), now);
    Ok(matched.and_then(|step| i64::try_from(step).ok()))
}

fn seal(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    user: UserId,
    secret: &str,
) -> Result<Sealed, ApiError> {
    let keys = data_keys::load_or_create(conn, keyring, user)?;
    keys.row(user, NO_CITY)
        .seal_text(TABLE, COLUMN, secret)
        .map_err(ApiError::internal)
}

fn open(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    user: UserId,
    sealed: &Sealed,
) -> Result<Zeroizing<String>, ApiError> {
    let keys = data_keys::load(conn, keyring, user)?;
    match keys.row(user, NO_CITY).open_text(TABLE, COLUMN, sealed) {
        Ok(Opened::Value(secret)) => Ok(Zeroizing::new(secret)),
        Ok(Opened::Erased) => Err(failed("the account's data key is gone")),
        Err(err) => Err(ApiError::internal(err)),
    }
}

/// Makes a new secret for the account, not in use until its first code is
/// confirmed. 409 when a second factor is on already: only an admin reset
/// takes it off.
pub fn begin(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &UserRow,
) -> Result<NewSecret, ApiError> {
    if row.totp_enabled() {
        return Err(ApiError::Conflict(
            "A second factor is on already; an admin reset removes it.".into(),
        ));
    }
    let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| failed("the system RNG failed"))?;
    let secret = Zeroizing::new(Secret::from(bytes.to_vec()).to_base32());
    let otpauth_uri = totp(&secret, &row.username)?
        .to_url()
        .map_err(|_| failed("the URI could not be made"))?;
    let sealed = seal(conn, keyring, row.id, &secret)?;
    diesel::update(users::table.find(row.id))
        .set((
            users::totp_secret_enc.eq(Some(sealed)),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(NewSecret {
        otpauth_uri,
        secret: secret.to_string(),
    })
}

/// Turns the second factor on with its first code, and ends every session
/// of the account (they were opened without it). 409 with no secret begun;
/// a wrong code is a 422 naming `totp_code`.
pub fn confirm(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &UserRow,
    code: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let sealed = match (&row.totp_secret_enc, row.totp_enabled()) {
        (Some(sealed), false) => sealed,
        _ => {
            return Err(ApiError::Conflict(
                "No second factor is waiting for its first code; begin with POST /me/totp.".into(),
            ));
        }
    };
    let secret = open(conn, keyring, row.id, sealed)?;
    let step = step_of(&secret, &row.username, code, now.and_utc().timestamp())?
        .ok_or_else(|| FieldError::new("totp_code", "is not the current code"))?;
    diesel::update(users::table.find(row.id))
        .set((
            users::totp_enabled_at.eq(Some(now)),
            users::totp_last_step.eq(Some(step)),
        ))
        .execute(conn)?;
    accounts::end_sessions(conn, row.id)
}

/// Whether `code` is right now and not used before; a right code is spent.
pub fn spend(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    row: &UserRow,
    code: &str,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let Some(sealed) = &row.totp_secret_enc else {
        return Ok(false);
    };
    let secret = open(conn, keyring, row.id, sealed)?;
    let Some(step) = step_of(&secret, &row.username, code, now.and_utc().timestamp())? else {
        return Ok(false);
    };
    let spent = diesel::update(
        users::table.find(row.id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(spent == 1)
}

/// The current code for a base32 secret (tests, and clients written in
/// Rust): what an authenticator app would show at `now`.
pub fn code_at(secret_base32: &str, username: &str, now: i64) -> Result<String, ApiError> {
    let now = u64::try_from(now).map_err(|_| failed("the clock is before 1970"))?;
    Ok(totp(secret_base32, username)?.generate(now).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn a_code_matches_its_step_and_the_ones_beside_it_only() {
        let now = 1_800_000_015;
        let code = code_at(SECRET, "amina", now).unwrap();
        assert_eq!(code.len(), 6);
        let step = now / 30;
        assert_eq!(step_of(SECRET, "amina", &code, now).unwrap(), Some(step));
        assert_eq!(
            step_of(SECRET, "amina", &code, now + 30).unwrap(),
            Some(step)
        );
        assert_eq!(step_of(SECRET, "amina", &code, now + 90).unwrap(), None);
        assert_eq!(step_of(SECRET, "amina", "12345", now).unwrap(), None);
        assert_eq!(step_of(SECRET, "amina", "+12345", now).unwrap(), None);
    }

    #[test]
    fn the_uri_is_an_otpauth_uri_naming_the_issuer_and_account() {
        let uri = totp(SECRET, "amina.k").unwrap().to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/Sanad:amina.k?"), "{uri}");
        assert!(
            uri.contains("secret=") && uri.contains("issuer=Sanad"),
            "{uri}"
        );
    }

    #[test]
    fn rfc_6238_sha1_test_vector() {
        // RFC 6238 appendix B, SHA1, T = 59 s: 94287082 (eight digits); six
        // digits are its last six.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, "rfc", 59).unwrap(), "287082");
    }
}
