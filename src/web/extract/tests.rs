use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
struct Subject {
    #[validate(length(min = 1, max = 5))]
    full_name: String,
    sex: Sex,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Sex {
    Female,
    Male,
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
struct Body {
    #[validate(nested)]
    subject: Subject,
    #[validate(range(min = 1, max = 10))]
    count: u32,
}

fn err_of(json: &str) -> ApiError {
    parse_json::<Body>(json.as_bytes()).unwrap_err()
}

fn fields(err: ApiError) -> Vec<(String, String)> {
    match err {
        ApiError::Validation(list) => list.into_iter().map(|f| (f.field, f.message)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn a_valid_body_parses() {
    let body: Body =
        parse_json(br#"{"subject":{"full_name":"Ali","sex":"male"},"count":3}"#).unwrap();
    assert_eq!(body.count, 3);
    assert!(matches!(body.subject.sex, Sex::Male));
    assert_eq!(body.subject.full_name, "Ali");
}

#[test]
fn syntax_errors_are_malformed() {
    assert!(matches!(err_of("{\"subject\":"), ApiError::Malformed(_)));
    let trailing = r#"{"subject":{"full_name":"Ali","sex":"male"},"count":3} {}"#;
    assert!(matches!(err_of(trailing), ApiError::Malformed(_)));
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let f = fields(err_of(r#"{"subject":{"full_name":"Ali","sex":"male"}}"#));
    assert_eq!(f, vec![("count".into(), "is required".into())]);
    let f = fields(err_of(
        r#"{"subject":{"full_name":"Ali","sex":"male","nickname":"x"},"count":1}"#,
    ));
    assert_eq!(f[0].0, "subject.nickname");
    assert_eq!(f[0].1, "is not a known field");
}

#[test]
fn wrong_values_are_named_without_echoing_them() {
    let f = fields(err_of(
        r#"{"subject":{"full_name":"Ali","sex":"Fatima Canary"},"count":1}"#,
    ));
    assert_eq!(f[0].0, "subject.sex");
    assert!(!f[0].1.contains("Canary"), "{}", f[0].1);
    let f = fields(err_of(
        r#"{"subject":{"full_name":"Ali","sex":"male"},"count":"Canary"}"#,
    ));
    assert_eq!(f[0].0, "count");
    assert!(!f[0].1.contains("Canary"), "{}", f[0].1);
}

#[test]
fn validation_lists_every_bad_field_and_counts_characters() {
    // Five Arabic letters are ten bytes but five characters: allowed.
    assert!(
        parse_json::<Body>(
            r#"{"subject":{"full_name":"فاطمة","sex":"female"},"count":3}"#.as_bytes()
        )
        .is_ok()
    );
    let f = fields(err_of(
        r#"{"subject":{"full_name":"","sex":"female"},"count":30}"#,
    ));
    assert_eq!(
        f,
        vec![
            ("count".into(), "must be between 1 and 10".into()),
            (
                "subject.full_name".into(),
                "must be between 1 and 5 characters".into()
            ),
        ]
    );
}
