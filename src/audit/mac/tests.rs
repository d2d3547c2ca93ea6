use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::*;
use crate::audit::verify::hex;
use crate::crypto::Keyring;

/// A keyring whose one audit key, "kat", is 32 bytes of 0x07.
fn known_keys() -> AuditKeys {
    let mut json: serde_json::Value =
        serde_json::from_str(&Keyring::generate().unwrap().to_json().unwrap()).unwrap();
    json["audit_keys"] = serde_json::json!([{"id": "kat", "key": BASE64.encode([7u8; 32])}]);
    json["active_audit_key"] = "kat".into();
    AuditKeys::from_keyring(&Keyring::from_json(&json.to_string()).unwrap()).unwrap()
}

fn subjects() -> Vec<SubjectRow> {
    let at = fixed_time();
    let row = |kind: &str, id: &str| SubjectRow {
        subject_id: id.into(),
        occurred_at: at,
        event_id: "5f1c7a2e-3b8d-4c6f-9e0a-1d2b3c4d5e6f".into(),
        kind: kind.into(),
    };
    vec![
        row("name", "00112233aabbccdd"),
        row("case", "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    ]
}

fn fixed_time() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2026-11-22 08:30:00.123456", "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

fn fixed_event() -> Event {
    Event {
        id: "5f1c7a2e-3b8d-4c6f-9e0a-1d2b3c4d5e6f".into(),
        queue_no: 7,
        occurred_at: fixed_time(),
        actor_id: Some("0b7a4a8e-4c39-4a77-9a8e-6f2c9a1d2e3f".into()),
        actor_role: Some("social_worker".into()),
        action: "case.search".into(),
        entity: None,
        entity_id: None,
        city_id: None,
        outcome: "success".into(),
        request_id: None,
        detail: Some(String::new()),
        seq: None,
        prev_hash: None,
        hash: None,
        key_id: Some("kat".into()),
        mac: None,
        chain_key_id: None,
    }
}

// Computed independently (Python: hmac, hashlib and RFC 5869 HKDF) from the
// encoding documented above. Changing them breaks every stored trail.
const EVENT_MAC: &str = "26bb3b1b2f0f2a87b97f49f7f0c5fbe8f6ad0dbe2dac241ded88e930dccc33f2";
const CHAIN_MAC: &str = "4cab494c247b2124b7d1f55cd0c00d71903ba6a39fe43abb4da77442bbecf2ad";
const ANCHOR_TAG: &str = "6a8de6e28957e1ab0ebb6e124978e5eb40eab65d7f6ee2b65bc1f7d65d691a86";

#[test]
fn the_macs_are_stable() {
    let keys = known_keys();
    let (event, subjects) = (fixed_event(), subjects());
    let mac = event_mac(&keys, &Sealed::of_event(&event, "kat", &subjects)).unwrap();
    assert_eq!(hex(&mac), EVENT_MAC);
    let chain = chain_mac(&keys, "kat", 3, &[1; 32], Some(&mac)).unwrap();
    assert_eq!(hex(&chain), CHAIN_MAC);
    let tag = anchor_tag(&keys, "kat", 3, &chain, "20261122T083000Z").unwrap();
    assert_eq!(hex(&tag), ANCHOR_TAG);
    assert!(chain_mac_holds(
        &keys,
        "kat",
        3,
        &[1; 32],
        Some(&mac),
        &chain
    ));
    assert!(anchor_tag_holds(
        &keys,
        "kat",
        3,
        &chain,
        "20261122T083000Z",
        &tag
    ));
}

#[test]
fn subjects_are_covered_in_any_order() {
    let keys = known_keys();
    let event = fixed_event();
    let all = subjects();
    let reversed: Vec<SubjectRow> = all.iter().rev().cloned().collect();
    let mac = |s: &[SubjectRow]| event_mac(&keys, &Sealed::of_event(&event, "kat", s)).unwrap();
    assert_eq!(mac(&all), mac(&reversed));
    assert_ne!(mac(&all), mac(&all[..1]));
    assert_ne!(mac(&all[..1]), mac(&[]));
}

#[test]
fn null_and_empty_and_moved_text_encode_differently() {
    let (event, none) = (fixed_event(), Vec::new());
    let encode = |e: &Event| Sealed::of_event(e, "kat", &none).canonical();
    let null = Event {
        detail: None,
        ..fixed_event()
    };
    assert_ne!(encode(&event), encode(&null));
    let a = Event {
        entity: Some("case".into()),
        entity_id: Some("x".into()),
        ..fixed_event()
    };
    let b = Event {
        entity: Some("casex".into()),
        entity_id: Some(String::new()),
        ..fixed_event()
    };
    assert_ne!(encode(&a), encode(&b));
}

#[test]
fn chain_fields_and_queue_number_are_not_covered_by_the_event_mac() {
    let none = Vec::new();
    let chained = Event {
        queue_no: 99,
        seq: Some(3),
        prev_hash: Some(vec![1; 32]),
        hash: Some(vec![2; 32]),
        chain_key_id: Some("other".into()),
        ..fixed_event()
    };
    assert_eq!(
        Sealed::of_event(&chained, "kat", &none).canonical(),
        Sealed::of_event(&fixed_event(), "kat", &none).canonical()
    );
}

#[test]
fn the_chain_binds_position_link_and_event() {
    let keys = known_keys();
    let base = chain_mac(&keys, "kat", 3, &[1; 32], Some(&[2; 32])).unwrap();
    assert_ne!(
        base,
        chain_mac(&keys, "kat", 4, &[1; 32], Some(&[2; 32])).unwrap()
    );
    assert_ne!(
        base,
        chain_mac(&keys, "kat", 3, &[9; 32], Some(&[2; 32])).unwrap()
    );
    assert_ne!(
        base,
        chain_mac(&keys, "kat", 3, &[1; 32], Some(&[9; 32])).unwrap()
    );
    assert_eq!(
        chain_mac(&keys, "kat", 3, &[1; 32], None).unwrap(),
        chain_mac(&keys, "kat", 3, &[1; 32], Some(&GENESIS)).unwrap()
    );
    assert!(chain_mac(&keys, "nobody", 3, &[1; 32], None).is_none());
}
