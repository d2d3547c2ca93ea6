//! Refresh tokens: opaque random strings given to the client once, stored
//! only as SHA-256 hashes. Each login starts a family; every refresh spends
//! the presented token and issues the next one in the same family.
//! Presenting a spent token means it was stolen or replayed: the whole family
//! is revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use ring::rand::SecureRandom;

use crate::db::AnyConnection;
use crate::db::schema::refresh_tokens as rt;
use crate::domain::{UserId, time};
use crate::error::ApiError;

pub(crate) fn digest(token: &str) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the system RNG failed")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Issues a token in `family` (a new family when `None`); returns the token.
pub fn issue(
    conn: &mut AnyConnection,
    user: UserId,
    family: Option<&str>,
    ttl_secs: u64,
) -> Result<String, ApiError> {
    let token = random_token()?;
    let now = time::now();
    let family = family
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(uuid::Uuid::new_v4().to_string()),
            rt::family_id.eq(family),
            rt::user_id.eq(user),
            rt::token_hash.eq(digest(&token)),
            rt::created_at.eq(now),
            rt::expires_at
                .eq(now + Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2))),
        ))
        .execute(conn)?;
    Ok(token)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Spent {
    /// The token was live and is now spent; issue the next in `family`.
    Fresh { user: UserId, family: String },
    /// The token was already spent: its family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(diesel::Queryable)]
struct Row {
    id: String,
    family_id: String,
    user_id: UserId,
    expires_at: NaiveDateTime,
    spent_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// Spends a presented token. Exactly one of two concurrent refreshes with
/// the same token wins: the spend is a conditional update.
pub fn spend(conn: &mut AnyConnection, token: &str) -> Result<Spent, ApiError> {
    let row: Option<Row> = rt::table
        .filter(rt::token_hash.eq(digest(token)))
        .select((
            rt::id,
            rt::family_id,
            rt::user_id,
            rt::expires_at,
            rt::spent_at,
            rt::revoked_at,
        ))
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(Spent::Invalid);
    };
    let now = time::now();
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(Spent::Invalid);
    }
    if row.spent_at.is_some() {
        revoke_family(conn, &row.family_id)?;
        return Ok(Spent::Reused);
    }
    let updated = diesel::update(
        rt::table
            .filter(rt::id.eq(&row.id))
            .filter(rt::spent_at.is_null()),
    )
    .set(rt::spent_at.eq(now))
    .execute(conn)?;
    if updated != 1 {
        revoke_family(conn, &row.family_id)?;
        return Ok(Spent::Reused);
    }
    let user = row.user_id;
    Ok(Spent::Fresh {
        user,
        family: row.family_id,
    })
}

pub fn revoke_family(conn: &mut AnyConnection, family: &str) -> Result<(), ApiError> {
    diesel::update(
        rt::table
            .filter(rt::family_id.eq(family))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(time::now()))
    .execute(conn)?;
    Ok(())
}

/// Revokes the family of `token` when it belongs to `user`.
pub fn revoke_by_token(
    conn: &mut AnyConnection,
    user: UserId,
    token: &str,
) -> Result<(), ApiError> {
    let family: Option<String> = rt::table
        .filter(rt::token_hash.eq(digest(token)))
        .filter(rt::user_id.eq(user))
        .select(rt::family_id)
        .first(conn)
        .optional()?;
    if let Some(family) = family {
        revoke_family(conn, &family)?;
    }
    Ok(())
}

/// Revokes every refresh token of a user (password change, account change).
pub fn revoke_all(conn: &mut AnyConnection, user: UserId) -> Result<(), ApiError> {
    diesel::update(
        rt::table
            .filter(rt::user_id.eq(user))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(time::now()))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
