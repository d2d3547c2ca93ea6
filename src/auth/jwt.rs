//! Access tokens: EdDSA (Ed25519) JWTs with `kid`, `iss`, `aud`, `sub`,
//! `exp`, `nbf`, `iat` and the user's `token_version` (`tv`). Signing keys
//! come from the keyring; every key the keyring holds verifies, the active
//! one signs, so keys rotate by `kid`.
//!
//! Verification is strict: the header must name EdDSA and a known `kid`;
//! every time claim is required (a claim of the wrong JSON type is an error,
//! not an absent claim — CVE-2026-25537 is fixed in the pinned version and
//! this makes it moot).
//!
//! A token verified once is remembered (by its SHA-256) until it expires,
//! so the Ed25519 check, a tenth of a read's time in the server, runs once
//! per token rather than once per request; its times are still checked at
//! every use, and the account behind it is still read at every request.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::UserId;
use crate::error::ApiError;
use crate::settings::AuthSettings;

/// Seconds of clock skew tolerated between this server and itself (nodes).
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    /// The user's token_version when the token was issued.
    pub tv: i64,
}

/// One verifying key: its id and raw 32-byte Ed25519 public key.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: String,
    pub raw: Vec<u8>,
}

pub struct TokenKeys {
    active_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    public: Vec<PublicKey>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    /// Tokens whose signature and claims were verified, by SHA-256.
    verified: std::sync::Mutex<HashMap<[u8; 32], Claims>>,
}

/// Tokens remembered at most: one per signed-in person for a large
/// deployment; when full, the memory is emptied and refills as tokens are
/// used again (about 1 MiB).
const VERIFIED_CAPACITY: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TokenKeyError {
    #[error("the active signing key {0:?} has no public key")]
    MissingActive(String),
    #[error("an Ed25519 public key must be 32 bytes")]
    BadPublicKey,
}

impl TokenKeys {
    /// `pkcs8_der` is the active key's PKCS#8 document; `public` holds every
    /// verifying key, the active one included.
    pub fn new(
        active_kid: &str,
        pkcs8_der: &[u8],
        public: Vec<PublicKey>,
        settings: &AuthSettings,
    ) -> Result<TokenKeys, TokenKeyError> {
        if public.iter().any(|k| k.raw.len() != 32) {
            return Err(TokenKeyError::BadPublicKey);
        }
        if !public.iter().any(|k| k.kid == active_kid) {
            return Err(TokenKeyError::MissingActive(active_kid.to_string()));
        }
        let decoding = public
            .iter()
            .map(|k| (k.kid.clone(), DecodingKey::from_ed_der(&k.raw)))
            .collect();
        Ok(TokenKeys {
            active_kid: active_kid.to_string(),
            encoding: EncodingKey::from_ed_der(pkcs8_der),
            decoding,
            public,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: i64::try_from(settings.access_token_ttl_secs).unwrap_or(900),
            verified: Default::default(),
        })
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// A signed access token for this user at this token version.
    pub fn issue(&self, user: UserId, token_version: i64) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.to_string(),
            exp: now + self.ttl_secs,
            nbf: now,
            iat: now,
            tv: token_version,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.active_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// The claims of a valid token; anything else is 401 with no detail. A
    /// token verified before is not verified again, but its times are.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        let now = chrono::Utc::now().timestamp();
        let leeway = LEEWAY_SECS as i64;
        let remembered = self
            .verified
            .lock()
            .ok()
            .and_then(|seen| seen.get(&key).cloned());
        if let Some(claims) = remembered {
            // What jsonwebtoken checks of the times, as it checks them.
            if claims.exp < now - leeway || claims.nbf > now + leeway {
                return Err(ApiError::Unauthorized);
            }
            return Ok(claims);
        }
        let claims = self.verify_signed(token)?;
        if let Ok(mut seen) = self.verified.lock() {
            if seen.len() >= VERIFIED_CAPACITY {
                seen.retain(|_, c| c.exp >= now - leeway);
                if seen.len() >= VERIFIED_CAPACITY {
                    seen.clear();
                }
            }
            seen.insert(key, claims.clone());
        }
        Ok(claims)
    }

    /// The whole check: header, signature, issuer, audience and times.
    fn verify_signed(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthorized)?;
        if header.alg != Algorithm::EdDSA {
            return Err(ApiError::Unauthorized);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(ApiError::Unauthorized)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|_| ApiError::Unauthorized)?;
        let now = chrono::Utc::now().timestamp();
        // Issued in the future is as wrong as not-yet-valid.
        if data.claims.iat > now + LEEWAY_SECS as i64 {
            return Err(ApiError::Unauthorized);
        }
        Ok(data.claims)
    }

    /// The JWKS document of every verifying key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .public
                .iter()
                .map(|k| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    alg: "EdDSA",
                    key_use: "sig",
                    kid: k.kid.clone(),
                    x: URL_SAFE_NO_PAD.encode(&k.raw),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub key_use: &'static str,
    pub kid: String,
    /// The public key, base64url without padding.
    pub x: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    pub fn settings() -> AuthSettings {
        AuthSettings {
            issuer: "sanad".into(),
            audience: "sanad-api".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 3600,
            password_min_chars: 12,
            max_failures_per_username: 5,
            max_failures_per_address: 30,
            failure_window_secs: 900,
            password_workers: 1,
            password_queue: 4,
            max_concurrent_logins_per_address: 8,
            enrolment_code_ttl_hours: 72,
            totp_required_roles: Vec::new(),
        }
    }

    pub fn keys(kid: &str) -> (TokenKeys, Vec<u8>) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = PublicKey {
            kid: kid.into(),
            raw: pair.public_key().as_ref().to_vec(),
        };
        (
            TokenKeys::new(kid, pkcs8.as_ref(), vec![public], &settings()).unwrap(),
            pkcs8.as_ref().to_vec(),
        )
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_version() {
        let (keys, _) = keys("k1");
        let user = UserId::new();
        let token = keys.issue(user, 7).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, user.to_string());
        assert_eq!(claims.tv, 7);
        assert!(claims.exp - claims.iat <= 900);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn a_remembered_token_is_still_checked_for_its_times_and_bytes() {
        let (keys, _) = keys("k1");
        let token = keys.issue(UserId::new(), 3).unwrap();
        let first = keys.verify(&token).unwrap();
        let again = keys.verify(&token).unwrap();
        assert_eq!((first.sub, first.tv), (again.sub, again.tv));
        // One byte of the signature changed is another token: verified in
        // full, and refused.
        let mut bytes = token.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(keys.verify(&tampered).is_err());
        // A remembered token past its expiry (and the leeway) is refused.
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        if let Some(claims) = keys.verified.lock().unwrap().get_mut(&key) {
            claims.exp = chrono::Utc::now().timestamp() - LEEWAY_SECS as i64 - 1;
        }
        assert!(matches!(keys.verify(&token), Err(ApiError::Unauthorized)));
    }

    #[test]
    fn a_token_of_another_key_or_kid_fails() {
        let (ours, _) = keys("k1");
        let (theirs, _) = keys("k1");
        let token = theirs.issue(UserId::new(), 1).unwrap();
        assert!(ours.verify(&token).is_err());
        let (other_kid, _) = keys("k2");
        assert!(
            ours.verify(&other_kid.issue(UserId::new(), 1).unwrap())
                .is_err()
        );
    }

    use proptest::prelude::*;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    proptest! {
        /// Any text as a bearer token is 401, never a panic.
        #[test]
        fn arbitrary_tokens_are_refused(token in "\\PC{0,300}") {
            let (keys, _) = keys("k1");
            prop_assert!(matches!(keys.verify(&token), Err(ApiError::Unauthorized)));
        }

        /// Three base64url parts around arbitrary JSON headers and claims
        /// (including `alg: none`, other algorithms and our own kid) are 401.
        #[test]
        fn forged_tokens_with_any_header_are_refused(
            alg in prop_oneof![
                Just("none".to_string()),
                Just("HS256".to_string()),
                Just("EdDSA".to_string()),
                "[A-Za-z0-9]{0,8}",
            ],
            kid in prop_oneof![Just("k1".to_string()), "\\PC{0,12}"],
            claims in "\\PC{0,120}",
            signature in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let (keys, _) = keys("k1");
            let header = serde_json::json!({"alg": alg, "typ": "JWT", "kid": kid}).to_string();
            let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()), b64(&signature));
            prop_assert!(matches!(keys.verify(&token), Err(ApiError::Unauthorized)));
        }

        /// A real token with any one character changed no longer verifies
        /// (unless the change is a no-op on the decoded bytes).
        #[test]
        fn a_tampered_token_is_refused(at in any::<usize>(), with in "[A-Za-z0-9_.=-]") {
            let (keys, _) = keys("k1");
            let token = keys.issue(UserId::new(), 1).unwrap();
            let at = at % token.len();
            let mut tampered = token.clone();
            tampered.replace_range(at..=at, &with);
            if tampered != token {
                let verified = keys.verify(&tampered);
                if let Ok(claims) = verified {
                    // Base64's last character may carry unused bits: the
                    // token decodes to the same bytes, so it is the same.
                    let original = keys.verify(&token).unwrap();
                    prop_assert_eq!(claims.sub, original.sub);
                    prop_assert_eq!(claims.tv, original.tv);
                }
            }
        }
    }

    #[test]
    fn the_jwks_names_every_key() {
        let (keys, _) = keys("k1");
        let jwks = serde_json::to_value(keys.jwks()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], "k1");
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["use"], "sig");
    }
}
