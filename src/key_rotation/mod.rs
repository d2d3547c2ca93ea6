//! Key rotation: a new key-encryption key (KEK) is added to the keyring,
//! every API node is restarted so that it can unwrap with it, then `rotate`
//! makes it active and rewraps every data key under it, in batches. No field
//! is re-encrypted and nothing goes offline; reads never fail because every
//! node holds both the old and the new KEK throughout.
//!
//! Token signing keys rotate the same way, by `kid`: `add_signing_key`, a
//! restart (every node now verifies the new key), `activate_signing_key`,
//! another restart (nodes now sign with it).
//!
//! `rotate` can be interrupted at any point and run again: each batch is one
//! transaction, and a data key is rewrapped only while it is still under the
//! version that was read (a concurrent erasure is never undone).

use std::path::{Path, PathBuf};

use diesel::prelude::*;

use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::audit::{self, Entity, NewEvent, Outcome};
use crate::crypto::{Keyring, KeyringError, WrappedDataKey, rewrap};
use crate::db::schema::data_keys;
use crate::db::{AnyConnection, write_transaction};
use crate::error::ApiError;
use crate::settings::Settings;

pub const BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(
        "the keyring file is not set (SANAD__CRYPTO__KEYRING_FILE); rotation rewrites that file"
    )]
    NoKeyringFile,
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("could not replace the keyring file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the keyring JSON could not be edited")]
    Edit,
    #[error("rewrapping failed: {0}")]
    Rewrap(#[from] ApiError),
}

fn keyring_path(settings: &Settings) -> Result<PathBuf, RotationError> {
    settings
        .crypto
        .keyring_file
        .clone()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or(RotationError::NoKeyringFile)
}

fn read(path: &Path) -> Result<Keyring, RotationError> {
    Ok(Keyring::read_file(path)?)
}

/// Replaces the keyring file atomically (`Keyring::replace`).
fn replace(path: &Path, keyring: &Keyring) -> Result<(), RotationError> {
    Ok(keyring.replace(path)?)
}

/// A copy of `keyring` edited through its JSON form (which `from_json`
/// validates again), for changes the keyring type does not offer.
fn edited(
    keyring: &Keyring,
    edit: impl FnOnce(&mut serde_json::Value) -> Result<(), RotationError>,
) -> Result<Keyring, RotationError> {
    let json = keyring.to_json()?;
    let mut value: serde_json::Value =
        serde_json::from_str(&json).map_err(|_| RotationError::Edit)?;
    let result = edit(&mut value);
    let text = zeroize::Zeroizing::new(value.to_string());
    if let Some(map) = value.as_object_mut() {
        map.clear();
    }
    result?;
    Ok(Keyring::from_json(&text)?)
}

/// A copy of `keyring` whose active KEK is `version`.
fn with_active(keyring: &Keyring, version: u8) -> Result<Keyring, RotationError> {
    edited(keyring, |v| {
        v["active_kek"] = serde_json::Value::from(version);
        Ok(())
    })
}

/// A key operation done at the command line: no signed-in actor. Sealed
/// with the keyring's own audit keys.
fn record(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    action: audit::Action,
    version: u8,
    detail: String,
) -> Result<(), RotationError> {
    let keys = crate::crypto::AuditKeys::from_keyring(keyring)?;
    let event = NewEvent::new(action, Outcome::Success)
        .entity_number(Entity::Key, u64::from(version))
        .detail(detail);
    Ok(audit::append_with(conn, &keys, &event)?)
}

/// `sanad keys add-kek`: adds a KEK that unwraps but is not yet used to
/// wrap. Returns its version.
pub fn add_kek(settings: &Settings, conn: &mut AnyConnection) -> Result<u8, RotationError> {
    let path = keyring_path(settings)?;
    let mut keyring = read(&path)?;
    let active = keyring.active_kek_version();
    let added = keyring.add_kek()?;
    replace(&path, &with_active(&keyring, active)?)?;
    record(
        conn,
        &keyring,
        audit::Action::KeysGenerate,
        added,
        "key-encryption key added, not active".into(),
    )?;
    Ok(added)
}

/// `sanad keys add-audit-key`: adds an audit key and makes it the one new
/// events are sealed with; older ones stay to verify. Records the change
/// sealed under the new key. Returns its id.
pub fn add_audit_key(
    settings: &Settings,
    conn: &mut AnyConnection,
) -> Result<String, RotationError> {
    let path = keyring_path(settings)?;
    let mut keyring = read(&path)?;
    let id = keyring.add_audit_key()?;
    replace(&path, &keyring)?;
    let keys = crate::crypto::AuditKeys::from_keyring(&keyring)?;
    let event = NewEvent::new(audit::Action::KeysGenerate, Outcome::Success)
        .entity(Entity::Key, uuid::Uuid::nil())
        .detail(format!("audit key {id} added and active"));
    write_transaction(conn, |conn| audit::append_with(conn, &keys, &event))?;
    Ok(id)
}

/// `sanad keys add-signing-key`: adds an Ed25519 token signing key that
/// verifies (it is in the JWKS once nodes restart) but does not sign yet.
/// Returns its `kid`.
pub fn add_signing_key(settings: &Settings) -> Result<String, RotationError> {
    use base64::Engine;
    let path = keyring_path(settings)?;
    let keyring = read(&path)?;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| RotationError::Edit)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| RotationError::Edit)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, pair.public_key().as_ref());
    let kid: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let encoded =
        zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref()));
    let updated = edited(&keyring, |v| {
        let keys = v["signing_keys"]
            .as_array_mut()
            .ok_or(RotationError::Edit)?;
        keys.push(serde_json::json!({"kid": kid, "pkcs8": encoded.as_str()}));
        Ok(())
    })?;
    replace(&path, &updated)?;
    Ok(kid)
}

/// `sanad keys activate-signing-key`: makes the most recently added signing
/// key the one that signs. Older keys keep verifying until removed.
pub fn activate_signing_key(settings: &Settings) -> Result<String, RotationError> {
    let path = keyring_path(settings)?;
    let keyring = read(&path)?;
    let mut newest = String::new();
    let updated = edited(&keyring, |v| {
        newest = v["signing_keys"]
            .as_array()
            .and_then(|keys| keys.last())
            .and_then(|k| k["kid"].as_str())
            .ok_or(RotationError::Edit)?
            .to_string();
        v["active_signing_kid"] = serde_json::Value::from(newest.clone());
        Ok(())
    })?;
    replace(&path, &updated)?;
    Ok(newest)
}

/// How far a rotation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub active: u8,
    pub rewrapped: u64,
    pub remaining: u64,
}

/// Data keys not yet under `active` (erased ones have no key to rewrap).
pub fn remaining(conn: &mut AnyConnection, active: u8) -> Result<u64, ApiError> {
    let count: i64 = data_keys::table
        .filter(data_keys::wrapped_key.is_not_null())
        .filter(data_keys::kek_version.ne(i32::from(active)))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Rewraps up to `batch` data keys under the keyring's active KEK in one
/// transaction; returns how many.
pub fn rewrap_batch(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    batch: i64,
) -> Result<u64, ApiError> {
    let active = i32::from(keyring.active_kek_version());
    write_transaction(conn, |conn| {
        let rows: Vec<(String, Option<i32>, Option<Vec<u8>>)> = data_keys::table
            .filter(data_keys::wrapped_key.is_not_null())
            .filter(data_keys::kek_version.ne(active))
            .select((
                data_keys::subject_id,
                data_keys::kek_version,
                data_keys::wrapped_key,
            ))
            .order(data_keys::subject_id.asc())
            .limit(batch)
            .load(conn)?;
        let mut done = 0;
        for (subject, version, bytes) in rows {
            let (Some(version), Some(bytes)) = (version, bytes) else {
                continue;
            };
            let old = WrappedDataKey {
                kek_version: u8::try_from(version).map_err(|_| {
                    ApiError::internal(anyhow::anyhow!("corrupt data_keys.kek_version"))
                })?,
                bytes,
            };
            let new = rewrap(keyring, &old, &subject).map_err(|err| {
                tracing::error!(subject_id = %subject, error = %err, "a data key failed to rewrap");
                ApiError::internal(err)
            })?;
            done += diesel::update(
                data_keys::table
                    .filter(data_keys::subject_id.eq(&subject))
                    .filter(data_keys::kek_version.eq(version)),
            )
            .set((
                data_keys::kek_version.eq(Some(i32::from(new.kek_version))),
                data_keys::wrapped_key.eq(Some(new.bytes)),
            ))
            .execute(conn)? as u64;
        }
        Ok(done)
    })
}

/// `sanad keys rotate`: makes the newest KEK active (saving the keyring) and
/// rewraps every data key under it, reporting after each batch.
pub fn rotate(
    settings: &Settings,
    conn: &mut AnyConnection,
    batch: i64,
    mut report: impl FnMut(Progress),
) -> Result<Progress, RotationError> {
    let path = keyring_path(settings)?;
    let mut keyring = read(&path)?;
    let newest = keyring.kek_versions().into_iter().max().unwrap_or(1);
    if newest != keyring.active_kek_version() {
        keyring = with_active(&keyring, newest)?;
        replace(&path, &keyring)?;
    }
    let mut progress = Progress {
        active: newest,
        rewrapped: 0,
        remaining: remaining(conn, newest)?,
    };
    report(progress);
    loop {
        let done = rewrap_batch(conn, &keyring, batch)?;
        if done == 0 {
            break;
        }
        progress.rewrapped += done;
        progress.remaining = remaining(conn, newest)?;
        report(progress);
    }
    progress.remaining = remaining(conn, newest)?;
    record(
        conn,
        &keyring,
        audit::Action::KeysRotate,
        newest,
        format!(
            "{} data keys rewrapped, {} remaining",
            progress.rewrapped, progress.remaining
        ),
    )?;
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_with(path: &Path) -> Settings {
        let mut settings = Settings::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        settings.crypto.keyring_file = Some(path.to_path_buf());
        settings
    }

    #[test]
    fn a_new_signing_key_verifies_first_and_signs_once_activated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        Keyring::generate().unwrap().write_new(&path).unwrap();
        let settings = settings_with(&path);
        let before = read(&path).unwrap().signing_key().0.to_string();

        let kid = add_signing_key(&settings).unwrap();
        let added = read(&path).unwrap();
        assert_eq!(added.signing_key().0, before, "not signing yet");
        let kids: Vec<String> = added.verifying_keys().into_iter().map(|k| k.0).collect();
        assert!(kids.contains(&kid) && kids.contains(&before));

        assert_eq!(activate_signing_key(&settings).unwrap(), kid);
        let active = read(&path).unwrap();
        assert_eq!(active.signing_key().0, kid);
        assert_eq!(
            active.verifying_keys().len(),
            2,
            "the old key still verifies"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn an_added_kek_unwraps_but_does_not_wrap_until_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        Keyring::generate().unwrap().write_new(&path).unwrap();
        let before = read(&path).unwrap();
        let mut ring = read(&path).unwrap();
        let added = ring.add_kek().unwrap();
        replace(
            &path,
            &with_active(&ring, before.active_kek_version()).unwrap(),
        )
        .unwrap();
        let after = read(&path).unwrap();
        assert_eq!(after.active_kek_version(), before.active_kek_version());
        assert!(after.kek(added).is_some());
    }
}
