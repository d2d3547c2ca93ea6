//! Data keys: one random 256-bit key per person (case subject), stored in the
//! database only wrapped (AES-256-GCM) under the keyring's active KEK, and
//! the per-column keys derived from it.
//!
//! Deleting a person's wrapped data key makes every field sealed for them
//! unreadable (crypto-shredding); rotating a KEK only rewraps data keys and
//! never re-encrypts a field.

use ring::rand::SystemRandom;

use super::envelope::{self, Aad};
use super::{CryptoError, Key256, Keyring};

/// Context that binds a wrapped data key to its person: a wrapped key copied
/// onto another person's row does not unwrap.
const WRAP_CONTEXT: &[u8] = b"sanad/dek";

/// A person's data key. Wiped on drop, never printed.
#[derive(Clone)]
pub struct DataKey(Key256);

impl DataKey {
    /// A fresh random data key for a new person.
    pub fn generate() -> Result<DataKey, CryptoError> {
        Key256::generate(&SystemRandom::new()).map(DataKey)
    }

    /// The key for one encrypted column: HKDF-SHA256 of the data key with
    /// info `sanad/enc/<table>/<column>`. Separate keys per column mean a
    /// ciphertext moved between columns fails twice over (key and AAD).
    /// Table and column are schema identifiers (`[a-z_]`), so the `/`
    /// separator is unambiguous.
    pub fn column_key(&self, table: &str, column: &str) -> Result<Key256, CryptoError> {
        self.0
            .derive(format!("sanad/enc/{table}/{column}").as_bytes())
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A data key as stored: the envelope bytes and the KEK version that opens
/// them (kept in its own column so rotation can find what to rewrap).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    pub kek_version: u8,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for WrappedDataKey {
    // The wrapped bytes are not secret without the KEK, but there is no
    // reason to spread them into logs either.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedDataKey")
            .field("kek_version", &self.kek_version)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .finish()
    }
}

fn wrap_aad(subject_id: &str) -> Aad {
    Aad::from_parts(&[WRAP_CONTEXT, subject_id.as_bytes()])
}

/// Wraps `dek` for the person `subject_id` under the keyring's active KEK.
pub fn wrap(
    keyring: &Keyring,
    dek: &DataKey,
    subject_id: &str,
) -> Result<WrappedDataKey, CryptoError> {
    let kek_version = keyring.active_kek_version();
    let kek = keyring
        .kek(kek_version)
        .ok_or(CryptoError::UnknownKek(kek_version))?;
    let bytes = envelope::seal(kek, &wrap_aad(subject_id), dek.0.expose())?;
    Ok(WrappedDataKey { kek_version, bytes })
}

/// Unwraps a person's data key. An unknown KEK version, another person's
/// wrapped key or any tampering fails closed.
pub fn unwrap(
    keyring: &Keyring,
    wrapped: &WrappedDataKey,
    subject_id: &str,
) -> Result<DataKey, CryptoError> {
    let kek = keyring
        .kek(wrapped.kek_version)
        .ok_or(CryptoError::UnknownKek(wrapped.kek_version))?;
    let plaintext =
        zeroize::Zeroizing::new(envelope::open(kek, &wrap_aad(subject_id), &wrapped.bytes)?);
    Key256::from_slice(&plaintext)
        .map(DataKey)
        .ok_or(CryptoError::Integrity)
}

/// Re-wraps a data key under the active KEK (key rotation). The data key
/// itself, and so every field sealed with it, is unchanged.
pub fn rewrap(
    keyring: &Keyring,
    wrapped: &WrappedDataKey,
    subject_id: &str,
) -> Result<WrappedDataKey, CryptoError> {
    let dek = unwrap(keyring, wrapped, subject_id)?;
    wrap(keyring, &dek, subject_id)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use ring::hkdf;

    use super::*;

    proptest::proptest! {
        /// Whatever a `data_keys` row holds, unwrapping it fails cleanly.
        #[test]
        fn unwrapping_arbitrary_stored_keys_fails_cleanly(
            kek_version in proptest::prelude::any::<u8>(),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128),
            subject in "\\PC{0,40}",
        ) {
            let keyring = Keyring::generate().unwrap();
            let wrapped = WrappedDataKey { kek_version, bytes };
            proptest::prop_assert!(unwrap(&keyring, &wrapped, &subject).is_err());
        }
    }

    #[test]
    fn wrap_then_unwrap_gives_the_same_key() {
        let keyring = Keyring::generate().unwrap();
        let dek = DataKey::generate().unwrap();
        let wrapped = wrap(&keyring, &dek, "subject-1").unwrap();
        assert_eq!(wrapped.kek_version, 1);
        assert_eq!(wrapped.bytes.len(), envelope::OVERHEAD + 32);
        let back = unwrap(&keyring, &wrapped, "subject-1").unwrap();
        assert_eq!(back.0.expose(), dek.0.expose());
    }

    #[test]
    fn unknown_kek_version_fails_closed() {
        let keyring = Keyring::generate().unwrap();
        let dek = DataKey::generate().unwrap();
        let mut wrapped = wrap(&keyring, &dek, "s").unwrap();
        wrapped.kek_version = 9;
        assert_eq!(
            unwrap(&keyring, &wrapped, "s").unwrap_err(),
            CryptoError::UnknownKek(9)
        );
    }

    #[test]
    fn another_subject_or_keyring_fails() {
        let keyring = Keyring::generate().unwrap();
        let dek = DataKey::generate().unwrap();
        let wrapped = wrap(&keyring, &dek, "subject-1").unwrap();
        assert_eq!(
            unwrap(&keyring, &wrapped, "subject-2").unwrap_err(),
            CryptoError::Integrity
        );
        let other = Keyring::generate().unwrap();
        assert_eq!(
            unwrap(&other, &wrapped, "subject-1").unwrap_err(),
            CryptoError::Integrity
        );
    }

    #[test]
    fn rewrap_moves_to_the_new_kek_and_keeps_the_data_key() {
        let mut keyring = Keyring::generate().unwrap();
        let dek = DataKey::generate().unwrap();
        let old = wrap(&keyring, &dek, "s").unwrap();
        let sealed = envelope::seal(
            &dek.column_key("persons", "full_name").unwrap(),
            &Aad::new("persons", "full_name", "r", "c"),
            b"Fatimah",
        )
        .unwrap();

        assert_eq!(keyring.add_kek().unwrap(), 2);
        // Old wrapping still opens while KEK 1 is kept.
        assert!(unwrap(&keyring, &old, "s").is_ok());
        let new = rewrap(&keyring, &old, "s").unwrap();
        assert_eq!(new.kek_version, 2);
        assert_ne!(new.bytes, old.bytes);
        let back = unwrap(&keyring, &new, "s").unwrap();
        assert_eq!(back.0.expose(), dek.0.expose());
        // Fields sealed before the rotation open with the rewrapped key.
        let opened = envelope::open(
            &back.column_key("persons", "full_name").unwrap(),
            &Aad::new("persons", "full_name", "r", "c"),
            &sealed,
        )
        .unwrap();
        assert_eq!(opened, b"Fatimah");
    }

    #[test]
    fn column_keys_differ_per_table_and_column() {
        let dek = DataKey::generate().unwrap();
        let a = dek.column_key("persons", "full_name").unwrap();
        let b = dek.column_key("persons", "phone").unwrap();
        let c = dek.column_key("notes", "full_name").unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        assert_ne!(a.expose(), dek.0.expose());
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let dek = DataKey::generate().unwrap();
        let printed = format!("{dek:?}");
        assert!(!printed.contains(&BASE64.encode(dek.0.expose())));
        assert_eq!(printed, "DataKey(<redacted>)");
    }

    /// RFC 5869 appendix A.1 (test case 1), through ring::hkdf with a custom
    /// output length, so the KDF under `column_key` is known good.
    #[test]
    fn hkdf_sha256_rfc5869_test_case_1() {
        struct Len(usize);
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let expected =
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
        let info = [info.as_slice()];
        let okm = prk.expand(&info, Len(42)).unwrap();
        let mut out = [0u8; 42];
        okm.fill(&mut out).unwrap();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }
}
