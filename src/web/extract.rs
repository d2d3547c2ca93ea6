//! Request extractors that turn every kind of bad input into a problem the
//! client can act on: wrong content type (415), too large (413), too slow
//! (408), nested too deep or not JSON (400), and wrong fields (422, each
//! field named by its JSON path).
//!
//! Error messages never echo the value the client sent: a misplaced name or
//! national ID must not come back in an error body or a log line.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Query};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// What a JSON extractor accepts; set once from settings
/// (`server.body_limit_bytes`, `server.json_max_depth`,
/// `server.body_read_timeout_ms`).
#[derive(Debug, Clone, Copy)]
pub struct JsonLimits {
    /// Largest body read, in bytes.
    pub body_bytes: usize,
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
    /// Time the whole body has to arrive once the handler starts reading.
    pub read_timeout: Duration,
}

impl Default for JsonLimits {
    fn default() -> JsonLimits {
        JsonLimits {
            body_bytes: 64 * 1024,
            max_depth: DEFAULT_MAX_DEPTH,
            read_timeout: Duration::from_secs(10),
        }
    }
}

/// The nesting limit of [`parse_json`] (the settings' default).
pub const DEFAULT_MAX_DEPTH: usize = 32;
/// A field name coming back in an error is cut to this many characters.
const MAX_FIELD_NAME_CHARS: usize = 64;

/// A JSON body, parsed and validated.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> FromRequest for ApiJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiJson<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limits = req.app_data::<JsonLimits>().copied().unwrap_or_default();
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let limit = limits.body_bytes;
            if declared.is_some_and(|len| len > limit) {
                return Err(ApiError::PayloadTooLarge);
            }
            // A client that sends its body slowly, or never finishes it, is
            // cut off here rather than holding a worker until the request
            // timeout.
            let read = async {
                let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|cause| match cause {
                        actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge,
                        _ => ApiError::Malformed("The request body could not be read.".into()),
                    })?;
                    if body.len() + chunk.len() > limit {
                        return Err(ApiError::PayloadTooLarge);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = match tokio::time::timeout(limits.read_timeout, read).await {
                Ok(Ok(body)) => body,
                Ok(Err(err)) => {
                    hold_until_closed(payload, limits.read_timeout);
                    return Err(err);
                }
                Err(_) => {
                    hold_until_closed(payload, limits.read_timeout);
                    return Err(ApiError::BodyTimeout);
                }
            };
            parse_json_within(&body, limits.max_depth).map(ApiJson)
        })
    }
}

/// Keeps the unread rest of a refused body alive while the error answer is
/// sent. actix-web closes a connection whose request body is still unread
/// when the answer is complete; but once the body is *dropped*, it drains a
/// chunked body to its end instead, which a client that trickles chunks
/// never reaches. Reading and discarding here (for at most `limit`) makes
/// the connection close after the answer.
fn hold_until_closed(mut payload: Payload, limit: Duration) {
    actix_web::rt::spawn(async move {
        let discard = async { while let Some(Ok(_)) = payload.next().await {} };
        let _ = tokio::time::timeout(limit, discard).await;
    });
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses and validates a JSON document nested at most
/// [`DEFAULT_MAX_DEPTH`] deep.
pub fn parse_json<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    parse_json_within(body, DEFAULT_MAX_DEPTH)
}

/// Parses and validates a JSON document nested at most `max_depth` deep.
/// The depth is measured first, without recursion, so no input can make
/// parsing recurse deeper than that.
pub fn parse_json_within<T: DeserializeOwned + Validate>(
    body: &[u8],
    max_depth: usize,
) -> Result<T, ApiError> {
    if nesting_exceeds(body, max_depth) {
        return Err(ApiError::Malformed(format!(
            "The request body nests arrays and objects deeper than {max_depth} levels."
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(serde_problem)?;
    de.end().map_err(|_| {
        ApiError::Malformed("The request body has extra characters after the JSON value.".into())
    })?;
    // Serde would also read a struct from an array of its fields in order
    // (`[null, null]`); every body of this API is an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    if has_escaped_nul(body) {
        return Err(nul_problem(body));
    }
    value.validate().map_err(validation_problem)?;
    Ok(value)
}

const NUL_MESSAGE: &str = "must not contain the character U+0000";

/// Whether a well-formed JSON text holds a `\u0000` escape, the only way
/// a NUL can appear in it. No field may hold one: PostgreSQL cannot store
/// it in text, and both backends must answer alike.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body.get(i + 1) == Some(&b'u') {
                if body.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                    return true;
                }
                i += 6;
            } else {
                i += 2;
            }
        } else {
            i += 1;
        }
    }
    false
}

/// A 422 naming the first member that holds a NUL (rare: parsed again).
fn nul_problem(body: &[u8]) -> ApiError {
    fn find(value: &serde_json::Value, path: String) -> Option<String> {
        let join = |name: &str| {
            let name: String = name.chars().take(MAX_FIELD_NAME_CHARS).collect();
            if path.is_empty() {
                name
            } else {
                format!("{path}.{name}")
            }
        };
        match value {
            serde_json::Value::String(text) => text.contains('\0').then_some(path),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| find(item, format!("{path}[{i}]"))),
            serde_json::Value::Object(members) => members.iter().find_map(|(name, item)| {
                if name.contains('\0') {
                    Some(join(&name.replace('\0', "")))
                } else {
                    find(item, join(name))
                }
            }),
            _ => None,
        }
    }
    let field = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| find(&value, String::new()))
        .filter(|field| !field.is_empty())
        .unwrap_or_else(|| "body".into());
    ApiError::field(field, NUL_MESSAGE)
}

/// Whether the arrays and objects of `body` nest deeper than `max_depth`.
/// Brackets inside strings do not count; a body that is not JSON at all is
/// left for the parser to refuse. One pass, constant memory, no recursion.
pub fn nesting_exceeds(body: &[u8], max_depth: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn serde_problem(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = err.path().to_string();
    let inner = err.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::Malformed(format!(
            "The request body is not valid JSON (line {}, column {}).",
            inner.line(),
            inner.column()
        )),
        Category::Data => {
            let (field, message) = describe_data_error(&path, &inner.to_string());
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
    }
}

/// Turns serde's message into a field path and a message that does not
/// repeat the value the client sent.
fn describe_data_error(path: &str, raw: &str) -> (String, String) {
    // serde_json appends " at line L column C"; it is noise for a field error.
    let text = raw.split(" at line ").next().unwrap_or(raw);
    let base = if path == "." { "" } else { path };
    let join = |name: &str| {
        let name: String = name.chars().take(MAX_FIELD_NAME_CHARS).collect();
        match base {
            "" => name,
            b if b.ends_with(&name) => b.to_string(),
            b => format!("{b}.{name}"),
        }
    };
    let quoted = |s: &str| {
        let start = s.find('`')?;
        let rest = &s[start + 1..];
        rest.find('`').map(|end| rest[..end].to_string())
    };
    if let Some(rest) = text.strip_prefix("missing field ") {
        let name = quoted(rest).unwrap_or_default();
        return (join(&name), "is required".into());
    }
    if let Some(rest) = text.strip_prefix("unknown field ") {
        let name = quoted(rest).unwrap_or_default();
        return (join(&name), "is not a known field".into());
    }
    let field = if base.is_empty() {
        "body".to_string()
    } else {
        base.to_string()
    };
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
        return (field, format!("must be {expected}"));
    }
    if let Some((_, expected)) = text.split_once(", expected ") {
        return (field, format!("must be {expected}"));
    }
    // Our own newtypes' messages (`#[serde(try_from)]`) never hold the value;
    // anything else we do not recognise is reported without its text.
    if text.contains('"') || text.contains('`') {
        return (field, "is invalid".into());
    }
    (field, text.to_string())
}

/// Flattens validator's nested errors into `field: message` pairs.
pub fn validation_problem(errors: ValidationErrors) -> ApiError {
    let mut out = Vec::new();
    flatten("", &errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    ApiError::Validation(out)
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (name, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.push(FieldError::new(path.clone(), describe_rule(error)));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

/// A message for one failed rule, from its own message or its code and
/// bounds; never from the `value` parameter validator records.
fn describe_rule(error: &validator::ValidationError) -> String {
    if let Some(message) = &error.message {
        return message.to_string();
    }
    let param = |key: &str| error.params.get(key).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => match (param("min"), param("max"), param("equal")) {
            (_, _, Some(n)) => format!("must be exactly {n} characters"),
            (Some(min), Some(max), _) => format!("must be between {min} and {max} characters"),
            (Some(min), None, _) => format!("must be at least {min} characters"),
            (None, Some(max), _) => format!("must be at most {max} characters"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "required" => "is required".into(),
        "email" => "must be an email address".into(),
        code => format!("is invalid ({code})"),
    }
}

/// Query strings: a bad parameter is a 422 naming it, never a 500.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default().error_handler(|err, _req| {
        let text = err.to_string();
        let (field, message) = describe_data_error(".", &text);
        let field = if field == "body" {
            "query".into()
        } else {
            field
        };
        ApiError::Validation(vec![FieldError::new(field, message)]).into()
    })
}

/// Path segments: an id that cannot be parsed names nothing that exists.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|_err, _req| ApiError::NotFound.into())
}

/// The page size of a list for the `limit` a client asked for, from the
/// `pagination` settings: their default when absent, else clamped to
/// 1..=their maximum.
pub fn page_size(req: &HttpRequest, requested: Option<u32>) -> u32 {
    req.app_data::<crate::settings::PaginationSettings>()
        .copied()
        .unwrap_or(crate::settings::PaginationSettings {
            default_page_size: 50,
            max_page_size: 100,
        })
        .page_size(requested)
}

/// Parses and validates a query string with the same error rules, for
/// handlers that read `Query<T>` by hand.
pub fn parse_query<T: DeserializeOwned + Validate>(req: &HttpRequest) -> Result<T, ApiError> {
    let query = Query::<T>::from_query(req.query_string())
        .map(Query::into_inner)
        .map_err(|err| {
            let (field, message) = describe_data_error(".", &err.to_string());
            let field = if field == "body" {
                "query".into()
            } else {
                field
            };
            ApiError::Validation(vec![FieldError::new(field, message)])
        })?;
    if let Ok(pairs) = Query::<Vec<(String, String)>>::from_query(req.query_string())
        && let Some((name, _)) = pairs.iter().find(|(_, value)| value.contains('\0'))
    {
        let name: String = name.chars().take(MAX_FIELD_NAME_CHARS).collect();
        return Err(ApiError::field(name, NUL_MESSAGE));
    }
    query.validate().map_err(validation_problem)?;
    Ok(query)
}

#[cfg(test)]
mod tests {
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
}

#[cfg(test)]
mod properties {
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
}
