use chrono::NaiveDateTime;

use super::*;

fn fixed_event() -> Event {
    Event {
        id: "5f1c7a2e-3b8d-4c6f-9e0a-1d2b3c4d5e6f".into(),
        queue_no: 7,
        occurred_at: NaiveDateTime::parse_from_str(
            "2026-11-22 08:30:00.123456",
            "%Y-%m-%d %H:%M:%S%.f",
        )
        .unwrap(),
        actor_id: Some("0b7a4a8e-4c39-4a77-9a8e-6f2c9a1d2e3f".into()),
        actor_role: Some("social_worker".into()),
        action: "case.read".into(),
        entity: Some("case".into()),
        entity_id: Some("9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into()),
        city_id: Some("3bae88c0-1eab-514b-b657-7d130a5efce4".into()),
        outcome: "success".into(),
        request_id: None,
        detail: Some(String::new()),
        seq: None,
        prev_hash: None,
        hash: None,
    }
}

#[test]
fn the_canonical_encoding_is_stable() {
    // Known answer: changing it breaks every chain already stored.
    assert_eq!(hex(&event_hash(&GENESIS, &fixed_event())), KNOWN_ANSWER);
}

// Computed independently (Python hashlib) from the encoding documented above.
const KNOWN_ANSWER: &str = "e01f2941baf9c44f5a06a0bd237cf46a9ff6bc91d3c29b40d792e9ba54ee0e45";

#[test]
fn null_and_empty_encode_differently() {
    let empty = fixed_event();
    let null = Event {
        detail: None,
        ..fixed_event()
    };
    assert_ne!(canonical(&empty), canonical(&null));
}

#[test]
fn moving_text_between_fields_changes_the_encoding() {
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
    assert_ne!(canonical(&a), canonical(&b));
}

#[test]
fn chain_fields_and_queue_number_are_not_covered() {
    let chained = Event {
        queue_no: 99,
        seq: Some(3),
        prev_hash: Some(vec![1; 32]),
        hash: Some(vec![2; 32]),
        ..fixed_event()
    };
    assert_eq!(canonical(&chained), canonical(&fixed_event()));
}

#[test]
fn anchors_parse_as_printed() {
    let hash = "AB".repeat(32);
    let anchor: Anchor = format!("42:{hash}").parse().unwrap();
    assert_eq!(anchor.seq, 42);
    assert_eq!(anchor.hash, "ab".repeat(32));
    for bad in [
        "",
        "42",
        "0:00",
        &format!("x:{hash}"),
        &format!("1:{}", "g".repeat(64)),
    ] {
        assert!(bad.parse::<Anchor>().is_err(), "{bad}");
    }
}

#[test]
fn the_previous_hash_is_bound() {
    assert_ne!(
        event_hash(&GENESIS, &fixed_event()),
        event_hash(&[1; 32], &fixed_event())
    );
}
