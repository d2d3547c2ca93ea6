//! `Key256`: 32 secret bytes that are wiped on drop and never printed.
//! Every symmetric key in the hierarchy (KEK, data key, column key,
//! blind-index root) is one of these, so the zeroize and redaction rules live
//! in one place.

use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;

/// Salt for every HKDF-Extract in Sanad. HKDF's security does not need a
/// secret salt; a fixed, versioned, application-specific one separates our
/// derivations from any other use of the same input key (RFC 5869 §3.1).
/// Changing it changes every derived key: it is part of the data format.
pub(crate) const HKDF_SALT: &[u8] = b"sanad/hkdf-salt/v1";

/// A 256-bit secret key.
// No PartialEq: comparing secrets is never needed outside tests, and a
// derived comparison would not be constant-time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate(rng: &SystemRandom) -> Result<Key256, CryptoError> {
        let mut key = Key256([0; 32]);
        rng.fill(&mut key.0).map_err(|_| CryptoError::Random)?;
        Ok(key)
    }

    /// Takes a key from bytes; `None` unless exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Key256> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Key256(array))
    }

    /// The raw bytes, for handing to a primitive. Crate-private so that no
    /// code outside `crypto` can copy a key out; never log them.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// HKDF-SHA256 with [`HKDF_SALT`], this key as input keying material and
    /// `info` as the context, giving another 256-bit key.
    pub(crate) fn derive(&self, info: &[u8]) -> Result<Key256, CryptoError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(&self.0);
        let info = [info];
        let okm = prk
            .expand(&info, Len32)
            .map_err(|_| CryptoError::Primitive)?;
        let mut out = Key256([0; 32]);
        okm.fill(&mut out.0).map_err(|_| CryptoError::Primitive)?;
        Ok(out)
    }
}

impl std::fmt::Debug for Key256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key256(<redacted>)")
    }
}

/// ring's HKDF output length marker for 32 bytes.
struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_slice_wants_exactly_32_bytes() {
        assert!(Key256::from_slice(&[7; 32]).is_some());
        assert!(Key256::from_slice(&[7; 31]).is_none());
        assert!(Key256::from_slice(&[7; 33]).is_none());
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key256::from_slice(&[0xAB; 32]).unwrap();
        let printed = format!("{key:?}");
        assert!(!printed.to_lowercase().contains("ab"), "{printed}");
        assert!(!printed.contains("171"), "{printed}");
    }

    #[test]
    fn derivation_depends_on_info_and_key() {
        let a = Key256::from_slice(&[1; 32]).unwrap();
        let b = Key256::from_slice(&[2; 32]).unwrap();
        let derive = |k: &Key256, info: &[u8]| *k.derive(info).unwrap().expose();
        assert_ne!(derive(&a, b"x"), derive(&a, b"y"));
        assert_ne!(derive(&a, b"x"), derive(&b, b"x"));
        assert_eq!(derive(&a, b"x"), derive(&a, b"x"));
    }
}
