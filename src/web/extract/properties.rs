use super::*;
use proptest::prelude::*;

#[derive(Debug, serde::Deserialize, Validate)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Anything {
    #[validate(length(min = 1, max = 10))]
    name: String,
    #[validate(range(min = 0, max = 120))]
    age: Option<u8>,
    tags: Option<Vec<String>>,
}

/// The nesting of a parsed value, by recursion (test inputs are small).
fn depth_of(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

/// JSON values of any shape, whose strings hold brackets, quotes and
/// backslashes.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[\\[\\]{}\"\\\\a-z]{0,8}".prop_map(serde_json::Value::from),
        "\\PC{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(16, 128, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[\\[{\"a-z]{0,4}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// The depth scan agrees with the parsed value's depth on every
    /// JSON document, whatever its strings hold.
    #[test]
    fn the_depth_scan_measures_what_the_parser_would(value in any_json(), max in 0usize..20) {
        let text = value.to_string();
        prop_assert_eq!(nesting_exceeds(text.as_bytes(), max), depth_of(&value) > max);
    }

    /// Any bytes and any limit: an answer, never a panic.
    #[test]
    fn the_depth_scan_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), max in 0usize..300) {
        let _ = nesting_exceeds(&bytes, max);
    }

    /// Nesting of any depth, far past what a recursive parser survives,
    /// is a 400 once past the limit, and never reaches the parser.
    #[test]
    fn deep_nesting_is_malformed_not_a_crash(depth in 0usize..100_000, object in any::<bool>()) {
        let (open, close) = if object { (r#"{"a":"#, "}") } else { ("[", "]") };
        let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        match parse_json::<Anything>(body.as_bytes()) {
            Err(ApiError::Malformed(message)) if depth > DEFAULT_MAX_DEPTH => {
                prop_assert!(message.contains("deeper than"));
            }
            Err(ApiError::Malformed(_)) | Err(ApiError::Validation(_)) => {
                prop_assert!(depth <= DEFAULT_MAX_DEPTH);
            }
            other => prop_assert!(false, "depth {depth}: {other:?}"),
        }
    }

    /// Whatever bytes arrive, parsing answers Ok or a client error.
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        match parse_json::<Anything>(&bytes) {
            Ok(_) | Err(ApiError::Malformed(_)) | Err(ApiError::Validation(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    /// JSON-shaped text with arbitrary Unicode, Arabic included.
    #[test]
    fn arbitrary_json_text_never_panics(name in "\\PC{0,40}", age in any::<i64>(), extra in "[a-z]{0,8}") {
        let body = serde_json::json!({"name": name, "age": age, extra: 1}).to_string();
        let _ = parse_json::<Anything>(body.as_bytes());
    }

    /// A field error never carries more than a short field name.
    #[test]
    fn messages_never_echo_long_values(value in "[A-Za-z0-9]{20,60}") {
        let body = format!(r#"{{"name": 5, "age": "{value}"}}"#);
        if let Err(ApiError::Validation(errors)) = parse_json::<Anything>(body.as_bytes()) {
            for e in errors {
                prop_assert!(!e.message.contains(&value) && !e.field.contains(&value));
            }
        }
    }
}
