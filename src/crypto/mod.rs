//! Field encryption for the data of returnees: the keyring (key-encryption
//! keys, blind-index root, token signing keys, audit keys), per-person data
//! keys, the audit trail's MAC keys, the
//! AES-256-GCM envelope, the typed field API that models use, and blind
//! indexes for exact-match lookups over encrypted columns.
//!
//! `docs/security.md` describes the key hierarchy, the ciphertext format and
//! what blind indexes leak; keep it true when this module changes.

pub mod audit_keys;
pub mod blind_index;
pub mod envelope;
pub mod field;
pub mod keyring;
mod secret;
pub mod tag;
pub mod wrapping;

pub use audit_keys::AuditKeys;
pub use blind_index::{BlindIndex, BlindIndexer};
pub use envelope::{Aad, open, seal};
pub use field::{FieldCipher, Opened, PersonKeys, Sealed};
pub use keyring::{Keyring, KeyringError};
pub use secret::Key256;
pub use tag::Tagger;
pub use wrapping::{DataKey, WrappedDataKey, rewrap, unwrap, wrap};

/// What a store needs besides the connection to seal, open and index a
/// person's fields: the keyring and the blind indexer.
#[derive(Clone, Copy)]
pub struct Crypto<'a> {
    pub keyring: &'a Keyring,
    pub indexer: &'a BlindIndexer,
}

/// Why a cryptographic operation failed. No variant carries plaintext, key
/// bytes or ciphertext: these errors end up in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext is malformed, of an unknown version or algorithm, was
    /// tampered with, or belongs to another key, row, column, table or city.
    /// Callers must treat this as a security event, never as "empty".
    #[error(
        "ciphertext failed its integrity check (tampered, truncated, or moved from another key or context)"
    )]
    Integrity,
    /// The wrapped data key names a key-encryption key the keyring lacks.
    #[error("no key-encryption key version {0} in the keyring")]
    UnknownKek(u8),
    /// The person's data key was erased; nothing can be sealed for them.
    #[error("the person's data key has been erased")]
    Erased,
    /// The value decrypted but is not of the column's type (e.g. not UTF-8);
    /// only possible if a writer bypassed the typed API.
    #[error("decrypted value does not decode as the column's type")]
    Decode,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// A primitive refused its input (key derivation length, oversize
    /// plaintext); a programming error rather than bad data.
    #[error("a cryptographic primitive rejected its parameters")]
    Primitive,
}
