use super::*;

fn valid_json() -> serde_json::Value {
    serde_json::from_str(&Keyring::generate().unwrap().to_json().unwrap()).unwrap()
}

fn rejects(json: serde_json::Value) -> KeyringError {
    Keyring::from_json(&json.to_string()).unwrap_err()
}

#[test]
fn keyring_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Keyring>();
    shared::<crate::crypto::BlindIndexer>();
    shared::<crate::crypto::PersonKeys>();
}

#[test]
fn generated_keyring_has_the_promised_shape() {
    let keyring = Keyring::generate().unwrap();
    assert_eq!(keyring.active_kek_version(), 1);
    assert_eq!(keyring.kek_versions(), vec![1]);
    assert!(keyring.kek(1).is_some());
    assert!(keyring.kek(2).is_none());
    let (kid, _) = keyring.signing_key();
    assert_eq!(kid.len(), 16);
    assert!(kid.chars().all(|c| c.is_ascii_hexdigit()));
    let verifying = keyring.verifying_keys();
    assert_eq!(verifying.len(), 1);
    assert_eq!(verifying[0].1.len(), 32);
}

#[test]
fn json_round_trip_keeps_every_key() {
    let mut keyring = Keyring::generate().unwrap();
    keyring.add_kek().unwrap();
    let again = Keyring::from_json(&keyring.to_json().unwrap()).unwrap();
    assert_eq!(again.kek_versions(), vec![1, 2]);
    assert_eq!(again.active_kek_version(), 2);
    for v in [1, 2] {
        assert_eq!(
            again.kek(v).unwrap().expose(),
            keyring.kek(v).unwrap().expose()
        );
    }
    assert_eq!(
        again.blind_index_root().expose(),
        keyring.blind_index_root().expose()
    );
    assert_eq!(again.signing_key().0, keyring.signing_key().0);
    assert_eq!(again.signing_pkcs8_der(), keyring.signing_pkcs8_der());
    assert_eq!(again.verifying_keys(), keyring.verifying_keys());
}

#[test]
fn signing_key_signs_and_its_public_key_verifies() {
    let keyring = Keyring::generate().unwrap();
    let (kid, pair) = keyring.signing_key();
    let signature = pair.sign(b"token");
    let (vkid, public) = &keyring.verifying_keys()[0];
    assert_eq!(kid, vkid);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(b"token", signature.as_ref())
        .unwrap();
    // The DER handed to jsonwebtoken is the same key.
    let from_der = Ed25519KeyPair::from_pkcs8(keyring.signing_pkcs8_der()).unwrap();
    assert_eq!(from_der.public_key().as_ref(), public.as_slice());
}

#[test]
fn add_kek_makes_the_next_version_active() {
    let mut keyring = Keyring::generate().unwrap();
    assert_eq!(keyring.add_kek().unwrap(), 2);
    assert_eq!(keyring.add_kek().unwrap(), 3);
    assert_eq!(keyring.active_kek_version(), 3);
    assert_ne!(
        keyring.kek(2).unwrap().expose(),
        keyring.kek(3).unwrap().expose()
    );
}

#[test]
fn add_kek_stops_at_255() {
    let mut json = valid_json();
    let key = json["keks"][0]["key"].clone();
    json["keks"] = serde_json::json!([{ "version": 255, "key": key }]);
    json["active_kek"] = 255.into();
    let mut keyring = Keyring::from_json(&json.to_string()).unwrap();
    assert!(matches!(
        keyring.add_kek(),
        Err(KeyringError::KekVersionsExhausted)
    ));
}

#[test]
fn validation_errors() {
    let mut j = valid_json();
    j["version"] = 2.into();
    assert!(matches!(rejects(j), KeyringError::UnsupportedVersion(2)));

    let mut j = valid_json();
    j["keks"][0]["key"] = BASE64.encode([1u8; 31]).into();
    assert!(matches!(
        rejects(j),
        KeyringError::KeyLength { len: 31, .. }
    ));

    let mut j = valid_json();
    j["blind_index_key"] = BASE64.encode([1u8; 33]).into();
    assert!(matches!(
        rejects(j),
        KeyringError::KeyLength { len: 33, .. }
    ));

    let mut j = valid_json();
    j["blind_index_key"] = "not base64!".into();
    assert!(matches!(rejects(j), KeyringError::Base64 { .. }));

    for bad in [0u32, 256] {
        let mut j = valid_json();
        j["keks"][0]["version"] = bad.into();
        assert!(matches!(
            rejects(j),
            KeyringError::KekVersionOutOfRange(v) if v == bad
        ));
    }

    let mut j = valid_json();
    let entry = j["keks"][0].clone();
    j["keks"] = serde_json::json!([entry.clone(), entry]);
    assert!(matches!(rejects(j), KeyringError::DuplicateKek(1)));

    let mut j = valid_json();
    j["keks"] = serde_json::json!([]);
    assert!(matches!(rejects(j), KeyringError::NoKeks));

    let mut j = valid_json();
    j["active_kek"] = 7.into();
    assert!(matches!(rejects(j), KeyringError::ActiveKekMissing(7)));

    let mut j = valid_json();
    j["active_signing_kid"] = "nope".into();
    assert!(matches!(
        rejects(j),
        KeyringError::ActiveSigningKidMissing(_)
    ));

    let mut j = valid_json();
    j["signing_keys"][0]["pkcs8"] = BASE64.encode([0u8; 85]).into();
    assert!(matches!(rejects(j), KeyringError::BadSigningKey { .. }));

    let mut j = valid_json();
    j["signing_keys"][0]["kid"] = "has space".into();
    assert!(matches!(rejects(j), KeyringError::BadKid { .. }));

    let mut j = valid_json();
    let entry = j["signing_keys"][0].clone();
    j["signing_keys"] = serde_json::json!([entry.clone(), entry]);
    assert!(matches!(rejects(j), KeyringError::DuplicateKid(_)));

    let mut j = valid_json();
    j["extra"] = 1.into();
    assert!(matches!(rejects(j), KeyringError::Json { .. }));
}

#[test]
fn json_errors_do_not_echo_values() {
    // serde_json would quote this string in its own message.
    let mut j = valid_json();
    let secret = j["keks"][0]["key"].as_str().unwrap().to_string();
    j["active_kek"] = secret.clone().into();
    let err = rejects(j);
    assert!(!err.to_string().contains(&secret));
    assert!(!format!("{err:?}").contains(&secret));
}

#[test]
fn debug_shows_no_key_material() {
    let keyring = Keyring::generate().unwrap();
    let printed = format!("{keyring:?}");
    let kek = BASE64.encode(keyring.kek(1).unwrap().expose());
    let bidx = BASE64.encode(keyring.blind_index_root().expose());
    let pkcs8 = BASE64.encode(keyring.signing_pkcs8_der());
    for secret in [&kek, &bidx, &pkcs8] {
        assert!(!printed.contains(secret.as_str()), "{printed}");
        // Nor a recognisable piece of it.
        assert!(!printed.contains(&secret[..12]), "{printed}");
    }
    assert!(printed.contains("redacted"));
}

proptest::proptest! {
    #[test]
    fn from_json_never_panics(text in "\\PC*") {
        let _ = Keyring::from_json(&text);
    }
}
