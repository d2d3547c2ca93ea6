//! Argon2id password hashing (OWASP's first choice: m = 19456 KiB, t = 2,
//! p = 1) and the password policy.
//!
//! Every hash and check uses its thread's own Argon2 working memory, made
//! once and kept: a thread that checks passwords holds one block array
//! (about 19 MiB) for its life. Left to the allocator, each check's 19 MiB
//! was freed into glibc's per-thread arenas and kept there, about five
//! checks' worth per thread, before any was reused. Only the password
//! workers (`auth::work`) check passwords, so the server holds at most
//! workers × 19 MiB of it.

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use ring::rand::SecureRandom;

use crate::error::ApiError;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// Longest password accepted, in characters; Argon2 would take more, but a
/// megabyte "password" is an attack on CPU, not a password.
pub const MAX_CHARS: usize = 256;
/// The most memory a stored hash may ask for (KiB): more is no hash of ours.
const MEMORY_KIB_LIMIT: u32 = 8 * MEMORY_KIB;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

static COMMON: &str = include_str!("common_passwords.txt");

thread_local! {
    /// This thread's Argon2 working memory, reused by every hash and check.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn params() -> Result<Params, ApiError> {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES))
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 parameters: {e}")))
}

/// Argon2 of `password` and `salt` into `out`, in this thread's memory
/// (grown to the parameters' size when they need more, and wiped after).
fn argon2_into(
    argon: &Argon2<'_>,
    blocks: usize,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != blocks {
            *memory = vec![Block::new(); blocks];
        }
        let done = argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            memory.as_mut_slice(),
        );
        memory.fill(Block::new());
        done
    })
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh salt.
pub fn hash(password: &str) -> Result<String, ApiError> {
    let failed = |what: &str| ApiError::internal(anyhow::anyhow!("hashing a password: {what}"));
    let mut salt = [0u8; SALT_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| failed("the system RNG failed"))?;
    let params = params()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_BYTES];
    argon2_into(&argon, params.block_count(), password, &salt, &mut out)
        .map_err(|e| failed(&e.to_string()))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e.to_string()))?),
    };
    Ok(phc.to_string())
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
    let Some((parsed, params, argon)) = parse(stored) else {
        tracing::warn!("a stored password hash could not be parsed");
        return Verified::Mismatch;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Verified::Mismatch;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon, params.block_count(), password, salt, &mut out).is_err() {
        return Verified::Mismatch;
    }
    // `Output`'s equality is constant-time.
    if Output::new(&out).ok().as_ref() != Some(expected) {
        return Verified::Mismatch;
    }
    let current = parsed.algorithm == ARGON2ID_IDENT
        && parsed.version == Some(0x13)
        && params.m_cost() >= MEMORY_KIB
        && params.t_cost() >= ITERATIONS
        && params.p_cost() >= PARALLELISM;
    if current {
        Verified::Current
    } else {
        Verified::NeedsRehash
    }
}

/// A stored hash, its parameters and the hasher they make; `None` when it
/// is not an Argon2 PHC string within our memory limit.
fn parse(stored: &str) -> Option<(PasswordHash, Params, Argon2<'static>)> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > MEMORY_KIB_LIMIT {
        return None;
    }
    let argon = Argon2::new(algorithm, version, params.clone());
    Some((parsed, params, argon))
}

/// A hash of a random password, verified against when the username is
/// unknown so that both failures take the same time. Made once at start-up
/// on a thread that checks no passwords, which then gives its working
/// memory back.
pub fn dummy_hash() -> Result<String, ApiError> {
    let made = hash("no user has this password; it only burns the same time");
    MEMORY.with(|memory| *memory.borrow_mut() = Vec::new());
    made
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
        use argon2::PasswordHasher;
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
        // Past the memory limit: never computed.
        let greedy = "$argon2id$v=19$m=4000000,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        assert_eq!(verify("x", greedy), Verified::Mismatch);
    }

    #[test]
    fn hashes_made_by_the_crate_itself_verify_and_a_thread_keeps_one_memory() {
        use argon2::PasswordHasher;
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap())
            .hash_password(b"a long enough passphrase")
            .unwrap()
            .to_string();
        assert_eq!(
            verify("a long enough passphrase", &theirs),
            Verified::Current
        );
        assert_eq!(verify("another passphrase", &theirs), Verified::Mismatch);
        let blocks = MEMORY.with(|m| m.borrow().len());
        assert_eq!(blocks, params().unwrap().block_count());
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
