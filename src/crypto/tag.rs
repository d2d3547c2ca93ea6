//! Keyed tags of values that must be counted or compared but never stored:
//! the usernames and client addresses of login attempts. A tag is
//! `HMAC-SHA256(HKDF(blind-index root, "sanad/tag/<purpose>"), value)`,
//! cut to 16 bytes and written as hex, so a reader of the database learns
//! neither the names people typed (sometimes a password, in the wrong
//! field) nor their addresses.

use ring::hmac;

use super::{CryptoError, Keyring};

/// Bytes of the HMAC kept: 128 bits, far past any collision among the keys
/// one window holds.
const TAG_LEN: usize = 16;

pub struct Tagger(hmac::Key);

impl Tagger {
    /// The tagger for one purpose: different purposes give unrelated tags.
    pub fn new(keyring: &Keyring, purpose: &str) -> Result<Tagger, CryptoError> {
        let key = keyring
            .blind_index_root()
            .derive(format!("sanad/tag/{purpose}").as_bytes())?;
        Ok(Tagger(hmac::Key::new(hmac::HMAC_SHA256, key.expose())))
    }

    /// The tag of `value`, as lower-case hex.
    pub fn tag(&self, value: &[u8]) -> String {
        hmac::sign(&self.0, value).as_ref()[..TAG_LEN]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl std::fmt::Debug for Tagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tagger(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_keyed_by_purpose_and_hide_the_value() {
        let keyring = Keyring::generate().unwrap();
        let logins = Tagger::new(&keyring, "login").unwrap();
        let other = Tagger::new(&keyring, "other").unwrap();
        let tag = logins.tag(b"amina");
        assert_eq!(tag.len(), 2 * TAG_LEN);
        assert_eq!(tag, logins.tag(b"amina"));
        assert_ne!(tag, logins.tag(b"amina2"));
        assert_ne!(tag, other.tag(b"amina"));
        let elsewhere = Tagger::new(&Keyring::generate().unwrap(), "login").unwrap();
        assert_ne!(tag, elsewhere.tag(b"amina"));
        assert!(!tag.contains("amina"));
    }
}
