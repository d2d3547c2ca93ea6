//! The keyring's audit keys: 256-bit keys by id, one active, that the
//! audit trail is MACed with (`crypto::audit_keys` derives what is used).
//! A new key becomes active at once; older ones stay to verify the events
//! they sealed. Keyrings written before the audit trail was keyed have
//! none: `Keyring::load` adds one in local mode, production refuses to
//! start until `sanad keys add-audit-key` has added it.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;

use super::{AuditKeyEntry, Keyring, KeyringError, check_kid, decode_key, random_id};
use crate::crypto::Key256;

/// The audit keys of a keyring file, checked: ids as signing key ids are,
/// unique; every key 32 bytes; the active one present (and given when
/// there are keys at all).
pub(super) fn parse(
    entries: &[AuditKeyEntry],
    active: Option<&str>,
) -> Result<(BTreeMap<String, Key256>, Option<String>), KeyringError> {
    let mut keys = BTreeMap::new();
    for entry in entries {
        check_kid(&entry.id)?;
        let key = decode_key(&format!("audit_keys[{}].key", entry.id), &entry.key)?;
        if keys.insert(entry.id.clone(), key).is_some() {
            return Err(KeyringError::DuplicateAuditKey(entry.id.clone()));
        }
    }
    match active {
        Some(id) if keys.contains_key(id) => Ok((keys, Some(id.to_string()))),
        Some(id) => Err(KeyringError::ActiveAuditKeyMissing(id.to_string())),
        None if keys.is_empty() => Ok((keys, None)),
        None => Err(KeyringError::ActiveAuditKeyMissing(String::new())),
    }
}

/// The file form of the audit keys.
pub(super) fn entries(keys: &BTreeMap<String, Key256>) -> Vec<AuditKeyEntry> {
    keys.iter()
        .map(|(id, key)| AuditKeyEntry {
            id: id.clone(),
            key: BASE64.encode(key.expose()),
        })
        .collect()
}

impl Keyring {
    /// Adds a new audit key and makes it active; returns its id. Events
    /// sealed under older keys still verify with them.
    pub fn add_audit_key(&mut self) -> Result<String, KeyringError> {
        let rng = SystemRandom::new();
        let id = random_id(&rng)?;
        let key = Key256::generate(&rng).map_err(|_| KeyringError::Random)?;
        self.audit_keys.insert(id.clone(), key);
        self.active_audit_key = Some(id.clone());
        Ok(id)
    }

    /// The id of the audit key new events are sealed with, if any.
    pub fn active_audit_key_id(&self) -> Option<&str> {
        self.active_audit_key.as_deref()
    }

    /// Every audit key, by id.
    pub(crate) fn audit_keys(&self) -> impl Iterator<Item = (&str, &Key256)> {
        self.audit_keys.iter().map(|(id, key)| (id.as_str(), key))
    }
}

/// The JSON of a new keyring as keyrings were before audit keys.
#[cfg(test)]
pub(crate) fn keyring_json_without_audit_keys() -> serde_json::Value {
    let keyring = Keyring::generate().expect("keyring");
    let mut json: serde_json::Value =
        serde_json::from_str(&keyring.to_json().expect("json")).expect("parses");
    if let Some(map) = json.as_object_mut() {
        map.remove("audit_keys");
        map.remove("active_audit_key");
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(keyring: &Keyring) -> serde_json::Value {
        serde_json::from_str(&keyring.to_json().unwrap()).unwrap()
    }

    #[test]
    fn a_generated_keyring_has_an_active_audit_key_that_round_trips() {
        let keyring = Keyring::generate().unwrap();
        let id = keyring.active_audit_key_id().unwrap().to_string();
        assert_eq!(id.len(), 16);
        let again = Keyring::from_json(&keyring.to_json().unwrap()).unwrap();
        assert_eq!(again.active_audit_key_id(), Some(id.as_str()));
        let (a, b) = (keyring.audit_keys().next(), again.audit_keys().next());
        assert_eq!(a.unwrap().1.expose(), b.unwrap().1.expose());
    }

    #[test]
    fn a_keyring_from_before_audit_keys_still_loads_without_one() {
        let json = keyring_json_without_audit_keys();
        let old = Keyring::from_json(&json.to_string()).unwrap();
        assert_eq!(old.active_audit_key_id(), None);
        assert!(!old.to_json().unwrap().contains("audit_key"));
    }

    #[test]
    fn adding_makes_the_new_key_active_and_keeps_the_old() {
        let mut keyring = Keyring::generate().unwrap();
        let first = keyring.active_audit_key_id().unwrap().to_string();
        let second = keyring.add_audit_key().unwrap();
        assert_ne!(first, second);
        assert_eq!(keyring.active_audit_key_id(), Some(second.as_str()));
        let again = Keyring::from_json(&keyring.to_json().unwrap()).unwrap();
        let ids: Vec<&str> = again.audit_keys().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&first.as_str()));
    }

    #[test]
    fn bad_audit_keys_are_refused() {
        let rejects = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut json = json_of(&Keyring::generate().unwrap());
            edit(&mut json);
            Keyring::from_json(&json.to_string()).unwrap_err()
        };
        let missing = rejects(&|j| j["active_audit_key"] = "nope".into());
        assert!(matches!(missing, KeyringError::ActiveAuditKeyMissing(_)));
        let unnamed = rejects(&|j| {
            j.as_object_mut().unwrap().remove("active_audit_key");
        });
        assert!(matches!(unnamed, KeyringError::ActiveAuditKeyMissing(_)));
        let short = rejects(&|j| j["audit_keys"][0]["key"] = BASE64.encode([1u8; 31]).into());
        assert!(matches!(short, KeyringError::KeyLength { len: 31, .. }));
        let twice = rejects(&|j| {
            let entry = j["audit_keys"][0].clone();
            j["audit_keys"] = serde_json::json!([entry.clone(), entry]);
        });
        assert!(matches!(twice, KeyringError::DuplicateAuditKey(_)));
        let bad_id = rejects(&|j| j["audit_keys"][0]["id"] = "has space".into());
        assert!(matches!(bad_id, KeyringError::BadKid { .. }));
    }

    #[test]
    fn debug_names_the_audit_key_but_not_its_bytes() {
        let keyring = Keyring::generate().unwrap();
        let printed = format!("{keyring:?}");
        let (id, key) = keyring.audit_keys().next().unwrap();
        assert!(printed.contains(id), "{printed}");
        assert!(!printed.contains(&BASE64.encode(key.expose())[..12]));
    }
}
