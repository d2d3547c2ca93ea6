//! Why a keyring could not be read, checked, made or written. No message
//! holds key material.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    // serde_json's own messages quote offending values, which could be key
    // material: keep only the position and the kind of error.
    #[error(
        "keyring JSON is invalid at line {line}, column {column} ({kind}); values are not shown because they may be keys"
    )]
    Json {
        line: usize,
        column: usize,
        kind: &'static str,
    },
    #[error("keyring format version {0} is not supported (expected 1)")]
    UnsupportedVersion(u32),
    #[error("keyring field {field} is not valid base64")]
    Base64 { field: String },
    #[error("keyring field {field} holds {len} bytes; a key must be exactly 32")]
    KeyLength { field: String, len: usize },
    #[error("keyring has no key-encryption keys")]
    NoKeks,
    #[error("key-encryption key version {0} is outside 1..=255")]
    KekVersionOutOfRange(u32),
    #[error("key-encryption key version {0} appears twice")]
    DuplicateKek(u8),
    #[error("active_kek {0} names no key-encryption key in the keyring")]
    ActiveKekMissing(u32),
    #[error("keyring already holds key-encryption key version 255; retire old versions first")]
    KekVersionsExhausted,
    #[error("keyring has no signing keys")]
    NoSigningKeys,
    #[error("key id {kid:?} must be 1 to 64 characters of A-Z a-z 0-9 - _")]
    BadKid { kid: String },
    #[error("signing key id {0:?} appears twice")]
    DuplicateKid(String),
    #[error("signing key {kid:?} is not an Ed25519 PKCS#8 v2 document")]
    BadSigningKey { kid: String },
    #[error("active_signing_kid {0:?} names no signing key in the keyring")]
    ActiveSigningKidMissing(String),
    #[error("audit key id {0:?} appears twice")]
    DuplicateAuditKey(String),
    #[error("active_audit_key {0:?} names no audit key in the keyring")]
    ActiveAuditKeyMissing(String),
    #[error(
        "the keyring has no audit key; add one with `sanad keys add-audit-key` (docs/operations.md, \"The audit key\")"
    )]
    NoAuditKey,
    #[error(
        "no keyring at {path}; production never generates one. Point SANAD__CRYPTO__KEYRING_FILE at the keyring made by `sanad keys generate --out FILE`, or put its JSON in SANAD__CRYPTO__KEYRING_JSON"
    )]
    MissingInProduction { path: PathBuf },
    #[error(
        "no keyring configured: set SANAD__CRYPTO__KEYRING_FILE (a file made by `sanad keys generate --out FILE`) or SANAD__CRYPTO__KEYRING_JSON"
    )]
    NotConfigured,
    #[error("{path} already exists; a keyring is never overwritten")]
    AlreadyExists { path: PathBuf },
    #[error("keyring file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the system random number generator failed")]
    Random,
    #[error("a key could not be derived from the keyring")]
    Derive,
    #[error("the keyring could not be serialised")]
    Serialize,
}
