//! Property tests of what a case accepts: names in Arabic and Latin script,
//! national IDs, phones and dates. Whatever arrives, parsing and checking
//! answer a value or field errors naming the field, never a panic, and no
//! message repeats what was sent.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::json;

use super::checks::{check_date_of_birth, check_return_date, parse_subject};
use super::model::CreateCase;
use crate::error::ApiError;
use crate::error::FieldError;
use crate::web::extract::parse_json;

fn body(subject: serde_json::Value) -> Vec<u8> {
    json!({
        "city_id": "6f0c3a52-1b7e-4c2d-9a8f-0e1d2c3b4a59",
        "subject": subject,
        "origin": {"kind": "camp"},
        "return_date": "2026-03-01",
        "consent": {"share_with_providers": true, "given_by": "self", "given_at": "2026-03-02T09:00:00Z"}
    })
    .to_string()
    .into_bytes()
}

fn subject(full_name: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut s = json!({"full_name": full_name, "sex": "female", "date_of_birth": "1990-04-12"});
    if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    s
}

/// Arabic letters, tashkeel, tatweel, Arabic-Indic digits and spaces.
fn arabic_name(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('\u{0621}', '\u{064A}'),
            1 => proptest::char::range('\u{064B}', '\u{0652}'),
            1 => Just('\u{0640}'),
            1 => Just(' '),
            1 => proptest::char::range('\u{0660}', '\u{0669}'),
        ],
        1..=max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn latin_name(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z' .-]{{1,{max}}}")).unwrap()
}

/// The field errors of a subject, none when it parses.
fn check_subject(
    subject: &super::model::SubjectInput,
    prefix: &str,
    today: NaiveDate,
) -> Vec<FieldError> {
    parse_subject(subject, prefix, today)
        .err()
        .unwrap_or_default()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 1).unwrap_or_default()
}

/// The fields named by a validation error, or a failure for anything else.
fn fields_of(result: Result<CreateCase, ApiError>) -> Result<Vec<(String, String)>, String> {
    match result {
        Ok(_) => Ok(Vec::new()),
        Err(ApiError::Validation(errors)) => {
            Ok(errors.into_iter().map(|e| (e.field, e.message)).collect())
        }
        Err(ApiError::Malformed(_)) => Ok(vec![("body".into(), String::new())]),
        Err(other) => Err(format!("unexpected {other:?}")),
    }
}

proptest! {
    /// Any Arabic or Latin name up to 200 characters is accepted whatever
    /// its length in bytes, and checked without panic; a longer one is a
    /// 422 on `subject.full_name` that does not repeat it.
    #[test]
    fn names_in_either_script_are_counted_in_characters(
        arabic in arabic_name(260),
        latin in latin_name(260),
    ) {
        let parsed = parse_json::<CreateCase>(&body(subject(&arabic, json!({"full_name_latin": latin}))));
        let fields = fields_of(parsed).map_err(TestCaseError::fail)?;
        let arabic_chars = arabic.chars().count();
        let latin_chars = latin.chars().count();
        for (field, message) in &fields {
            prop_assert!(
                (field == "subject.full_name" && arabic_chars > 200)
                    || (field == "subject.full_name_latin" && latin_chars > 200),
                "{field}: {message}"
            );
            prop_assert!(!message.contains(arabic.trim()) || arabic.trim().is_empty());
        }
        prop_assert_eq!(fields.is_empty(), arabic_chars <= 200 && latin_chars <= 200);
        if let Ok(case) = parse_json::<CreateCase>(&body(subject(&arabic, json!({}))))  {
            let errors = check_subject(&case.subject, "subject.", today());
            prop_assert!(errors.iter().all(|e| e.field == "subject.full_name"));
            prop_assert_eq!(errors.is_empty(), !arabic.trim().is_empty());
        }
    }

    /// A national ID or phone of any text is accepted or named, never
    /// echoed, and the check agrees with the normaliser.
    #[test]
    fn national_ids_and_phones_of_any_text(national_id in "\\PC{1,64}", phone in "\\PC{1,32}") {
        let parsed = parse_json::<CreateCase>(&body(subject(
            "فاطمة",
            json!({"national_id": national_id, "phone": phone}),
        )));
        if let Ok(case) = parsed {
            let errors = check_subject(&case.subject, "subject.", today());
            for e in &errors {
                prop_assert!(e.field == "subject.national_id" || e.field == "subject.phone", "{}", e.field);
                // A one-letter input is in any message by chance; from eight
                // characters on, finding it there means it was echoed.
                for input in [national_id.as_str(), phone.as_str()] {
                    prop_assert!(input.chars().count() < 8 || !e.message.contains(input));
                }
            }
            let id_ok = crate::crypto::blind_index::normalise_national_id(&national_id).is_some();
            let phone_ok = crate::crypto::blind_index::normalise_phone(&phone).is_some();
            prop_assert_eq!(errors.iter().any(|e| e.field == "subject.national_id"), !id_ok);
            prop_assert_eq!(errors.iter().any(|e| e.field == "subject.phone"), !phone_ok);
        }
    }

    /// A date of birth written any way is a date or a 422 on its field.
    #[test]
    fn dates_written_any_way_are_dates_or_field_errors(text in "\\PC{0,24}|[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}") {
        let parsed = parse_json::<CreateCase>(&body(json!({
            "full_name": "فاطمة", "sex": "female", "date_of_birth": text
        })));
        let fields = fields_of(parsed).map_err(TestCaseError::fail)?;
        for (field, message) in &fields {
            prop_assert_eq!(field.as_str(), "subject.date_of_birth");
            prop_assert!(text.len() < 3 || !message.contains(text.as_str()));
        }
    }

    /// Every representable date is checked without panic: a birth date
    /// after today or before 1900 is refused, a return date outside 2003 to
    /// a year ahead too.
    #[test]
    fn every_date_is_checked_without_panic(days in -1_000_000i32..3_000_000, today_days in 700_000i32..800_000) {
        let (Some(date), Some(today)) = (
            NaiveDate::from_num_days_from_ce_opt(days),
            NaiveDate::from_num_days_from_ce_opt(today_days),
        ) else {
            return Ok(());
        };
        let dob = check_date_of_birth(date, "subject.date_of_birth", today);
        prop_assert_eq!(dob.is_some(), date > today || chrono::Datelike::year(&date) < 1900);
        let _ = check_return_date(date, today);
    }

    /// Whole bodies of arbitrary JSON values in every subject field are
    /// client errors or cases, never anything else.
    #[test]
    fn any_subject_values_are_client_errors(
        values in proptest::collection::vec(
            prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(|f| json!(f)),
                "\\PC{0,30}".prop_map(serde_json::Value::from),
                Just(json!([])),
                Just(json!({})),
            ],
            7,
        ),
    ) {
        let names = ["full_name", "full_name_latin", "sex", "date_of_birth", "national_id", "phone", "address"];
        let subject: serde_json::Map<String, serde_json::Value> =
            names.iter().map(|n| n.to_string()).zip(values).collect();
        let parsed = parse_json::<CreateCase>(&body(serde_json::Value::Object(subject)));
        let fields = fields_of(parsed).map_err(TestCaseError::fail)?;
        for (field, _) in fields {
            prop_assert!(field.starts_with("subject") || field == "body", "{field}");
        }
    }
}
