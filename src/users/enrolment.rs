//! One-time enrolment codes: nobody sets a password that another person
//! will use. An account is given a code (128 random bits, 32 hex digits)
//! shown once to whoever issued or approved it, who hands it to the person;
//! the person sets their own password with it (`POST /auth/enrol`). Only a
//! SHA-256 of the code is stored; it expires after
//! `auth.enrolment_code_ttl_hours` and works once.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use ring::rand::SecureRandom;

use crate::auth::store::digest;
use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::domain::{Approval, UserId, time};
use crate::error::{ApiError, FieldError};

use super::model::UserRow;
use super::store;

/// A code just issued: shown once.
pub struct Issued {
    pub code: String,
    pub expires_at: NaiveDateTime,
}

/// What every refused code is told, whatever the reason (unknown account,
/// wrong, expired, already used): the answer names no account.
pub fn refused() -> ApiError {
    FieldError::new(
        "enrolment_code",
        "is not a valid enrolment code for this username, or has expired or been used",
    )
    .into()
}

/// Gives the account a new code (any older one stops working).
pub fn issue(conn: &mut AnyConnection, user: UserId, ttl: Duration) -> Result<Issued, ApiError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the system RNG failed")))?;
    let code: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let expires_at = time::now() + ttl;
    diesel::update(users::table.find(user))
        .set((
            users::enrolment_code_hash.eq(Some(digest(&code))),
            users::enrolment_expires_at.eq(Some(expires_at)),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(Issued { code, expires_at })
}

/// The stored form of a code as typed: spaces and dashes dropped, lower case.
pub fn code_hash(typed: &str) -> String {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    digest(&code)
}

/// The account `username` if `hash` is its live code: approved, active,
/// not expired. Anything else is [`refused`].
pub fn check(
    conn: &mut AnyConnection,
    username: &str,
    hash: &str,
    now: NaiveDateTime,
) -> Result<UserRow, ApiError> {
    let row = store::find_by_username(conn, username)?.ok_or_else(refused)?;
    let live = row.active
        && row.approval == Approval::Approved
        && row.enrolment_expires_at.is_some_and(|at| at > now)
        && row
            .enrolment_code_hash
            .as_deref()
            .is_some_and(|stored| same(stored, hash));
    if live { Ok(row) } else { Err(refused()) }
}

/// Sets the password of the account whose live code is `hash`, spending
/// the code and ending any session. `false` when the code was spent (or
/// replaced) in the meantime: nothing changed.
pub fn complete(
    conn: &mut AnyConnection,
    user: UserId,
    hash: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let changed = diesel::update(
        users::table
            .find(user)
            .filter(users::enrolment_code_hash.eq(hash))
            .filter(users::enrolment_expires_at.gt(now)),
    )
    .set((
        users::password_hash.eq(password_hash),
        users::enrolment_code_hash.eq(None::<String>),
        users::enrolment_expires_at.eq(None::<NaiveDateTime>),
        users::token_version.eq(users::token_version + 1),
        users::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Clears the account's password, code and second factor, and ends its
/// sessions: nobody can sign in to it until a new code is used.
pub fn clear(conn: &mut AnyConnection, user: UserId) -> Result<(), ApiError> {
    diesel::update(users::table.find(user))
        .set((
            users::password_hash.eq(""),
            users::enrolment_code_hash.eq(None::<String>),
            users::enrolment_expires_at.eq(None::<NaiveDateTime>),
            users::totp_secret_enc.eq(None::<Vec<u8>>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
            users::updated_at.eq(time::now()),
        ))
        .execute(conn)?;
    store::end_sessions(conn, user)
}

/// Compares two hex digests without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_as_typed_and_digests_in_full() {
        assert_eq!(code_hash(" AB12-cd34 "), code_hash("ab12cd34"));
        assert_ne!(code_hash("ab12cd34"), code_hash("ab12cd35"));
        assert!(same(&code_hash("x"), &code_hash("x")));
        assert!(!same(&code_hash("x"), &code_hash("y")));
        assert!(!same("abc", "ab"));
    }
}
