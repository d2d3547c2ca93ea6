//! Argon2id password hashing (OWASP's first choice: m = 19456 KiB, t = 2,
//! p = 1) and the password policy.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::ApiError;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// Longest password accepted, in characters; Argon2 would take more, but a
/// megabyte "password" is an attack on CPU, not a password.
pub const MAX_CHARS: usize = 256;

static COMMON: &str = include_str!("common_passwords.txt");

fn hasher() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh salt.
pub fn hash(password: &str) -> Result<String, ApiError> {
    hasher()?
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Matches, and the stored hash uses today's parameters.
    Current,
    /// Matches, but was made with older or weaker parameters: store a new hash.
    NeedsRehash,
    Mismatch,
}

/// Checks a password against a stored PHC string. A malformed stored hash is
/// a mismatch (and logged), never an error the caller could tell apart.
pub fn verify(password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        tracing::warn!("a stored password hash could not be parsed");
        return Verified::Mismatch;
    };
    let Ok(argon) = hasher() else {
        return Verified::Mismatch;
    };
    if argon.verify_password(password.as_bytes(), &parsed).is_err() {
        return Verified::Mismatch;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() >= MEMORY_KIB && p.t_cost() >= ITERATIONS && p.p_cost() >= PARALLELISM
        });
    if current {
        Verified::Current
    } else {
        Verified::NeedsRehash
    }
}

/// A hash of a random password, verified against when the username is
/// unknown so that both failures take the same time.
pub fn dummy_hash() -> Result<String, ApiError> {
    hash("no user has this password; it only burns the same time")
}

/// Why a new password is refused, or `None` when it is acceptable.
pub fn weakness(password: &str, username: &str, min_chars: usize) -> Option<String> {
    let chars = password.chars().count();
    if chars < min_chars {
        return Some(format!("must be at least {min_chars} characters"));
    }
    if chars > MAX_CHARS {
        return Some(format!("must be at most {MAX_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if COMMON
        .lines()
        .any(|common| common.eq_ignore_ascii_case(&lower))
    {
        return Some("is one of the most common passwords".into());
    }
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Some("must use at least 5 different characters".into());
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Some("must not contain the username".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let stored = hash("a long enough passphrase").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(
            verify("a long enough passphrase", &stored),
            Verified::Current
        );
        assert_eq!(
            verify("a long enough passphrasf", &stored),
            Verified::Mismatch
        );
        assert_ne!(stored, hash("a long enough passphrase").unwrap(), "salted");
    }

    #[test]
    fn weaker_stored_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"a long enough passphrase")
        .unwrap()
        .to_string();
        assert_eq!(
            verify("a long enough passphrase", &weak),
            Verified::NeedsRehash
        );
    }

    #[test]
    fn garbage_stored_hashes_are_mismatches() {
        assert_eq!(verify("x", "not a hash"), Verified::Mismatch);
        assert_eq!(verify("x", ""), Verified::Mismatch);
    }

    #[test]
    fn the_policy_refuses_short_common_repetitive_and_username_passwords() {
        assert!(weakness("short", "amina", 12).is_some());
        assert!(weakness("Password1234", "amina", 12).is_some());
        assert!(weakness("ababababababab", "amina", 12).is_some());
        assert!(weakness("amina-the-social-worker", "amina", 12).is_some());
        assert!(weakness(&"x".repeat(300), "amina", 12).is_some());
        // Arabic passphrases count characters, not bytes.
        assert!(weakness("كلمة سر طويلة جداً", "amina", 12).is_none());
        assert!(weakness("river-lamp-orchard-42", "amina", 12).is_none());
    }
}
