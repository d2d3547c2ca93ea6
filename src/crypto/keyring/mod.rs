//! The keyring: every root secret Sanad holds outside its database.
//!
//! - key-encryption keys (KEKs), versioned 1..=255, one active; the older
//!   ones only unwrap data keys until `sanad keys rotate` has rewrapped them;
//! - the blind-index root key, one per deployment;
//! - Ed25519 token signing keys, by `kid`, one active;
//! - audit keys, by id, one active: the keys the audit trail is MACed
//!   with (`audit_keys.rs`, `crypto::audit_keys`).
//!
//! It is read from `SANAD__CRYPTO__KEYRING_JSON` or from the keyring file
//! (see [`Keyring::load`]). Secret bytes live in zeroize-on-drop types and no
//! `Debug` or error message of this module prints them.

mod audit_keys;
mod error;
mod file;

pub use error::KeyringError;

#[cfg(test)]
pub(crate) use audit_keys::keyring_json_without_audit_keys;

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::Key256;

/// The only keyring file format so far.
const FORMAT_VERSION: u32 = 1;
const KID_RANDOM_BYTES: usize = 8;
const KID_MAX_LEN: usize = 64;
/// Comfortably above a keyring with 255 KEKs and a few signing keys.
const JSON_CAPACITY: usize = 64 * 1024;

/// The on-disk form. Wiped on drop: it holds every key in base64.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    version: u32,
    active_kek: u32,
    keks: Vec<KekEntry>,
    blind_index_key: String,
    signing_keys: Vec<SigningEntry>,
    active_signing_kid: String,
    /// Absent from keyrings made before the audit trail was keyed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    audit_keys: Vec<AuditKeyEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active_audit_key: Option<String>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct AuditKeyEntry {
    id: String,
    key: String,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KekEntry {
    version: u32,
    key: String,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct SigningEntry {
    kid: String,
    pkcs8: String,
}

struct SigningKey {
    kid: String,
    /// Kept because jsonwebtoken wants the DER, and to write the keyring back.
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

/// The loaded, validated keyring.
pub struct Keyring {
    keks: BTreeMap<u8, Key256>,
    active_kek: u8,
    blind_index_root: Key256,
    /// The active signing key, held apart so that one always exists.
    signing: SigningKey,
    /// Older signing keys: still published so their tokens verify.
    older_signing: Vec<SigningKey>,
    /// Audit keys by id; older ones only verify.
    audit_keys: BTreeMap<String, Key256>,
    active_audit_key: Option<String>,
}

impl Keyring {
    /// A fresh keyring: KEK version 1, a blind-index root, one signing key,
    /// one audit key.
    pub fn generate() -> Result<Keyring, KeyringError> {
        let rng = SystemRandom::new();
        let kek = Key256::generate(&rng).map_err(|_| KeyringError::Random)?;
        let blind_index_root = Key256::generate(&rng).map_err(|_| KeyringError::Random)?;
        let signing = generate_signing_key(&rng)?;
        let mut keyring = Keyring {
            keks: BTreeMap::from([(1, kek)]),
            active_kek: 1,
            blind_index_root,
            signing,
            older_signing: Vec::new(),
            audit_keys: BTreeMap::new(),
            active_audit_key: None,
        };
        keyring.add_audit_key()?;
        Ok(keyring)
    }

    /// Parses and validates the JSON form.
    pub fn from_json(json: &str) -> Result<Keyring, KeyringError> {
        let file: KeyringFile = serde_json::from_str(json).map_err(|err| KeyringError::Json {
            line: err.line(),
            column: err.column(),
            kind: match err.classify() {
                serde_json::error::Category::Io => "read error",
                serde_json::error::Category::Syntax => "syntax error",
                serde_json::error::Category::Data => "wrong field, type or value",
                serde_json::error::Category::Eof => "unexpected end",
            },
        })?;
        Keyring::from_file(&file)
    }

    fn from_file(file: &KeyringFile) -> Result<Keyring, KeyringError> {
        if file.version != FORMAT_VERSION {
            return Err(KeyringError::UnsupportedVersion(file.version));
        }
        if file.keks.is_empty() {
            return Err(KeyringError::NoKeks);
        }
        let mut keks = BTreeMap::new();
        for entry in &file.keks {
            let version = u8::try_from(entry.version)
                .ok()
                .filter(|v| *v >= 1)
                .ok_or(KeyringError::KekVersionOutOfRange(entry.version))?;
            let key = decode_key(&format!("keks[version {version}].key"), &entry.key)?;
            if keks.insert(version, key).is_some() {
                return Err(KeyringError::DuplicateKek(version));
            }
        }
        let active_kek = u8::try_from(file.active_kek)
            .ok()
            .filter(|v| keks.contains_key(v))
            .ok_or(KeyringError::ActiveKekMissing(file.active_kek))?;
        let blind_index_root = decode_key("blind_index_key", &file.blind_index_key)?;

        if file.signing_keys.is_empty() {
            return Err(KeyringError::NoSigningKeys);
        }
        let mut kids = HashSet::new();
        let mut signing_keys: Vec<SigningKey> = Vec::with_capacity(file.signing_keys.len());
        for entry in &file.signing_keys {
            check_kid(&entry.kid)?;
            if !kids.insert(entry.kid.as_str()) {
                return Err(KeyringError::DuplicateKid(entry.kid.clone()));
            }
            let field = format!("signing_keys[{}].pkcs8", entry.kid);
            let pkcs8 = Zeroizing::new(
                BASE64
                    .decode(entry.pkcs8.as_bytes())
                    .map_err(|_| KeyringError::Base64 { field })?,
            );
            let pair =
                Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyringError::BadSigningKey {
                    kid: entry.kid.clone(),
                })?;
            signing_keys.push(SigningKey {
                kid: entry.kid.clone(),
                pkcs8,
                pair,
            });
        }
        let active = signing_keys
            .iter()
            .position(|k| k.kid == file.active_signing_kid)
            .ok_or_else(|| {
                KeyringError::ActiveSigningKidMissing(file.active_signing_kid.clone())
            })?;
        let signing = signing_keys.swap_remove(active);
        let (audit_keys, active_audit_key) =
            audit_keys::parse(&file.audit_keys, file.active_audit_key.as_deref())?;

        Ok(Keyring {
            keks,
            active_kek,
            blind_index_root,
            signing,
            older_signing: signing_keys,
            audit_keys,
            active_audit_key,
        })
    }

    /// The JSON form, with every secret in it. The string is wiped when
    /// dropped; write it only to a 0600 file or a secret store.
    pub fn to_json(&self) -> Result<Zeroizing<String>, KeyringError> {
        let file = KeyringFile {
            version: FORMAT_VERSION,
            active_kek: u32::from(self.active_kek),
            keks: self
                .keks
                .iter()
                .map(|(version, key)| KekEntry {
                    version: u32::from(*version),
                    key: BASE64.encode(key.expose()),
                })
                .collect(),
            blind_index_key: BASE64.encode(self.blind_index_root.expose()),
            signing_keys: self
                .signing_keys()
                .map(|k| SigningEntry {
                    kid: k.kid.clone(),
                    pkcs8: BASE64.encode(k.pkcs8.as_slice()),
                })
                .collect(),
            active_signing_kid: self.signing.kid.clone(),
            audit_keys: audit_keys::entries(&self.audit_keys),
            active_audit_key: self.active_audit_key.clone(),
        };
        // Sized up front so the buffer never reallocates, which would leave
        // an unwiped copy of the keys in freed memory.
        let mut buffer = Zeroizing::new(Vec::with_capacity(JSON_CAPACITY));
        serde_json::to_writer_pretty(&mut *buffer, &file).map_err(|_| KeyringError::Serialize)?;
        buffer.push(b'\n');
        // Moves the bytes (no copy); serde_json writes only UTF-8.
        String::from_utf8(std::mem::take(&mut *buffer))
            .map(Zeroizing::new)
            .map_err(|_| KeyringError::Serialize)
    }

    /// Adds a new KEK (version = highest + 1) and makes it active. Data keys
    /// wrapped under older versions still unwrap; `rewrap` moves them over.
    pub fn add_kek(&mut self) -> Result<u8, KeyringError> {
        let highest = self.keks.keys().next_back().copied().unwrap_or(0);
        let version = highest
            .checked_add(1)
            .ok_or(KeyringError::KekVersionsExhausted)?;
        let key = Key256::generate(&SystemRandom::new()).map_err(|_| KeyringError::Random)?;
        self.keks.insert(version, key);
        self.active_kek = version;
        Ok(version)
    }

    pub fn active_kek_version(&self) -> u8 {
        self.active_kek
    }

    /// Every KEK version held, oldest first.
    pub fn kek_versions(&self) -> Vec<u8> {
        self.keks.keys().copied().collect()
    }

    pub fn kek(&self, version: u8) -> Option<&Key256> {
        self.keks.get(&version)
    }

    pub fn blind_index_root(&self) -> &Key256 {
        &self.blind_index_root
    }

    /// The active token signing key and its `kid`.
    pub fn signing_key(&self) -> (&str, &Ed25519KeyPair) {
        (&self.signing.kid, &self.signing.pair)
    }

    /// PKCS#8 DER of the active signing key (for `EncodingKey::from_ed_der`).
    pub fn signing_pkcs8_der(&self) -> &[u8] {
        &self.signing.pkcs8
    }

    /// `(kid, raw 32-byte Ed25519 public key)` of every signing key: the JWKS.
    pub fn verifying_keys(&self) -> Vec<(String, Vec<u8>)> {
        self.signing_keys()
            .map(|k| (k.kid.clone(), k.pair.public_key().as_ref().to_vec()))
            .collect()
    }

    /// The active signing key first, then the older ones.
    fn signing_keys(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.signing).chain(&self.older_signing)
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("kek_versions", &self.kek_versions())
            .field("active_kek", &self.active_kek)
            .field(
                "signing_kids",
                &self.signing_keys().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("active_signing_kid", &self.signing.kid)
            .field("audit_key_ids", &self.audit_keys.keys().collect::<Vec<_>>())
            .field("active_audit_key", &self.active_audit_key)
            .field("keys", &"<redacted>")
            .finish()
    }
}

fn decode_key(field: &str, text: &str) -> Result<Key256, KeyringError> {
    let bytes =
        Zeroizing::new(
            BASE64
                .decode(text.as_bytes())
                .map_err(|_| KeyringError::Base64 {
                    field: field.to_string(),
                })?,
        );
    Key256::from_slice(&bytes).ok_or_else(|| KeyringError::KeyLength {
        field: field.to_string(),
        len: bytes.len(),
    })
}

fn check_kid(kid: &str) -> Result<(), KeyringError> {
    let ok = !kid.is_empty()
        && kid.len() <= KID_MAX_LEN
        && kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(KeyringError::BadKid {
            kid: kid.chars().take(KID_MAX_LEN).collect(),
        })
    }
}

fn generate_signing_key(rng: &SystemRandom) -> Result<SigningKey, KeyringError> {
    let document = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| KeyringError::Random)?;
    let pkcs8 = Zeroizing::new(document.as_ref().to_vec());
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyringError::Random)?;
    let kid = random_id(rng)?;
    Ok(SigningKey { kid, pkcs8, pair })
}

/// A new key id: random, 16 lower-case hex digits.
fn random_id(rng: &SystemRandom) -> Result<String, KeyringError> {
    let mut bytes = [0u8; KID_RANDOM_BYTES];
    rng.fill(&mut bytes).map_err(|_| KeyringError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
