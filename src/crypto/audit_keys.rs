//! What the audit trail is MACed with: from each audit key of the keyring,
//! three HMAC-SHA256 keys, `HKDF(audit key, "sanad/audit/<purpose>")` for
//! `event` (each event, sealed as it is appended), `chain` (the link the
//! sequencer gives it) and `anchor` (a head handed to an outside witness).
//! Someone who can write the database but does not hold the keyring can
//! make none of them.
//!
//! Appending an event happens deep inside many stores, through
//! `audit::append(conn, event)`. Rather than thread the keys through every
//! one of them, the code that owns a connection puts the keys *in scope* for
//! the work it runs on it ([`scope`]: `db::Database::run` does for every
//! request and background task, the command line for its commands), and
//! `append` takes them from there ([`in_scope`]). Outside any scope an
//! event cannot be appended: that is an error, never an unsealed event.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use ring::hmac;

use super::{CryptoError, Keyring, KeyringError};

/// Bytes of every MAC of the audit trail.
pub const MAC_LEN: usize = 32;

/// What a MAC is for; each has its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Event,
    Chain,
    Anchor,
}

struct Derived {
    event: hmac::Key,
    chain: hmac::Key,
    anchor: hmac::Key,
}

impl Derived {
    fn key(&self, purpose: Purpose) -> &hmac::Key {
        match purpose {
            Purpose::Event => &self.event,
            Purpose::Chain => &self.chain,
            Purpose::Anchor => &self.anchor,
        }
    }
}

/// The audit keys of a keyring, by id, ready to MAC with.
pub struct AuditKeys {
    active: String,
    by_id: BTreeMap<String, Derived>,
}

impl AuditKeys {
    /// Every audit key of the keyring; `NoAuditKey` when it has none.
    pub fn from_keyring(keyring: &Keyring) -> Result<AuditKeys, KeyringError> {
        let active = keyring
            .active_audit_key_id()
            .ok_or(KeyringError::NoAuditKey)?
            .to_string();
        let derive = |root: &super::Key256, purpose: &str| -> Result<hmac::Key, KeyringError> {
            let key = root
                .derive(format!("sanad/audit/{purpose}").as_bytes())
                .map_err(|_: CryptoError| KeyringError::Derive)?;
            Ok(hmac::Key::new(hmac::HMAC_SHA256, key.expose()))
        };
        let mut by_id = BTreeMap::new();
        for (id, root) in keyring.audit_keys() {
            let derived = Derived {
                event: derive(root, "event")?,
                chain: derive(root, "chain")?,
                anchor: derive(root, "anchor")?,
            };
            by_id.insert(id.to_string(), derived);
        }
        Ok(AuditKeys { active, by_id })
    }

    /// The id of the key new events and links are made with.
    pub fn active(&self) -> &str {
        &self.active
    }

    /// Whether the key `id` is held.
    pub fn holds(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// HMAC-SHA256 of `parts`, concatenated, under the `purpose` key of
    /// `id`; `None` when that key is not held.
    pub fn mac(&self, id: &str, purpose: Purpose, parts: &[&[u8]]) -> Option<[u8; MAC_LEN]> {
        let key = self.by_id.get(id)?.key(purpose);
        let mut context = hmac::Context::with_key(key);
        for part in parts {
            context.update(part);
        }
        let mut out = [0; MAC_LEN];
        out.copy_from_slice(context.sign().as_ref());
        Some(out)
    }

    /// Whether `tag` is the MAC of `parts` under the `purpose` key of `id`,
    /// compared in constant time. False for a key not held.
    pub fn verify(&self, id: &str, purpose: Purpose, parts: &[&[u8]], tag: &[u8]) -> bool {
        let Some(derived) = self.by_id.get(id) else {
            return false;
        };
        let data: Vec<u8> = parts.concat();
        hmac::verify(derived.key(purpose), &data, tag).is_ok()
    }
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeys")
            .field("active", &self.active)
            .field("ids", &self.by_id.keys().collect::<Vec<_>>())
            .finish()
    }
}

thread_local! {
    static IN_SCOPE: RefCell<Option<Arc<AuditKeys>>> = const { RefCell::new(None) };
}

/// Runs `work` with `keys` in scope on this thread (see the module
/// documentation), restoring what was in scope before, even if `work`
/// panics.
pub fn scope<T>(keys: &Arc<AuditKeys>, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<AuditKeys>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            IN_SCOPE.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let previous = IN_SCOPE.with(|slot| slot.borrow_mut().replace(Arc::clone(keys)));
    let _restore = Restore(previous);
    work()
}

/// The keys in scope on this thread, if any.
pub fn in_scope() -> Option<Arc<AuditKeys>> {
    IN_SCOPE.with(|slot| slot.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Arc<AuditKeys> {
        Arc::new(AuditKeys::from_keyring(&Keyring::generate().unwrap()).unwrap())
    }

    #[test]
    fn each_purpose_and_key_gives_another_mac() {
        let mut keyring = Keyring::generate().unwrap();
        let first = keyring.active_audit_key_id().unwrap().to_string();
        let second = keyring.add_audit_key().unwrap();
        let keys = AuditKeys::from_keyring(&keyring).unwrap();
        assert_eq!(keys.active(), second);
        let mac = |id: &str, purpose| keys.mac(id, purpose, &[b"a", b"b"]).unwrap();
        assert_ne!(mac(&first, Purpose::Event), mac(&first, Purpose::Chain));
        assert_ne!(mac(&first, Purpose::Chain), mac(&first, Purpose::Anchor));
        assert_ne!(mac(&first, Purpose::Event), mac(&second, Purpose::Event));
        let tag = mac(&first, Purpose::Event);
        assert!(keys.verify(&first, Purpose::Event, &[b"ab"], &tag));
        assert!(!keys.verify(&first, Purpose::Event, &[b"ac"], &tag));
        assert!(!keys.verify(&second, Purpose::Event, &[b"ab"], &tag));
        assert!(keys.mac("unknown", Purpose::Event, &[]).is_none());
        assert!(!keys.verify("unknown", Purpose::Event, &[], &tag));
    }

    #[test]
    fn a_keyring_without_an_audit_key_has_no_audit_keys() {
        let json = crate::crypto::keyring::keyring_json_without_audit_keys();
        let old = Keyring::from_json(&json.to_string()).unwrap();
        assert!(matches!(
            AuditKeys::from_keyring(&old),
            Err(KeyringError::NoAuditKey)
        ));
    }

    #[test]
    fn scopes_nest_and_end() {
        let (outer, inner) = (keys(), keys());
        assert!(in_scope().is_none());
        scope(&outer, || {
            assert_eq!(in_scope().unwrap().active(), outer.active());
            scope(&inner, || {
                assert_eq!(in_scope().unwrap().active(), inner.active());
            });
            assert_eq!(in_scope().unwrap().active(), outer.active());
            let caught = std::panic::catch_unwind(|| scope(&inner, || panic!("boom")));
            assert!(caught.is_err());
            assert_eq!(in_scope().unwrap().active(), outer.active());
        });
        assert!(in_scope().is_none());
    }

    #[test]
    fn debug_shows_ids_only() {
        let keys = keys();
        let printed = format!("{keys:?}");
        assert!(printed.contains(keys.active()), "{printed}");
    }
}
