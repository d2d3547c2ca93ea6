//! Reading a JSON body: its nesting measured before it is parsed, serde's
//! errors and `validator`'s turned into field errors that name the field by
//! its JSON path and never repeat the value sent.

use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

use super::{DEFAULT_MAX_DEPTH, MAX_FIELD_NAME_CHARS};

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

pub(crate) const NUL_MESSAGE: &str = "must not contain the character U+0000";

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
            "The request body is not valid JSON (line {line}, column {column}).",
            line = inner.line(),
            column = inner.column()
        )),
        Category::Data => {
            let (field, message) = describe_data_error(&path, &inner.to_string());
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
    }
}

/// Turns serde's message into a field path and a message that does not
/// repeat the value the client sent.
pub(crate) fn describe_data_error(path: &str, raw: &str) -> (String, String) {
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
        return (field, must_be(expected));
    }
    if text.starts_with("UUID parsing failed") {
        return (field, UUID_MESSAGE.into());
    }
    if CHRONO_MESSAGES.contains(&text) {
        return (field, DATE_MESSAGE.into());
    }
    if let Some((_, expected)) = text.split_once(", expected ") {
        return (field, must_be(expected));
    }
    // Our own newtypes' messages (`#[serde(try_from)]`) never hold the value;
    // anything else we do not recognise is reported without its text.
    if text.contains('"') || text.contains('`') {
        return (field, "is invalid".into());
    }
    (field, text.to_string())
}

const UUID_MESSAGE: &str = "must be a UUID, like 0b6f5a51-8c37-4b8e-9d3c-2f1e4a7c9b10";
const DATE_MESSAGE: &str =
    "must be a date (2026-05-14) or a date and time with its offset (2026-05-14T09:30:00Z)";

/// What chrono says of a date or time it cannot read.
const CHRONO_MESSAGES: [&str; 7] = [
    "input is out of range",
    "no possible date and time matching input",
    "input is not enough for unique date and time",
    "input contains invalid characters",
    "premature end of input",
    "trailing input",
    "bad or unsupported format string",
];

/// serde's "expected …" in the words of the API's schema: JSON types, not
/// Rust ones, and the allowed values of a closed list without backticks.
fn must_be(expected: &str) -> String {
    let expected = expected.trim();
    if expected.starts_with("struct ") || expected == "a map" || expected == "map" {
        return "must be an object".into();
    }
    let message = match expected {
        "a sequence" | "sequence" => "must be an array",
        "a string" | "a borrowed string" | "string" | "a character" => "must be text",
        "a boolean" | "bool" => "must be true or false",
        "u8" | "u16" | "u32" | "u64" | "usize" => "must be a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" | "an integer" => "must be a whole number",
        "f32" | "f64" | "a number" => "must be a number",
        _ => "",
    };
    if !message.is_empty() {
        return message.into();
    }
    if expected.contains('`') {
        let values: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match values.as_slice() {
            [] => "is invalid".into(),
            [value] => format!("must be {value}"),
            many => {
                let keys = many.join(", ");
                format!("must be one of {keys}")
            }
        };
    }
    if expected.contains('"') {
        return "is invalid".into();
    }
    format!("must be {expected}")
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
pub(crate) fn describe_rule(error: &validator::ValidationError) -> String {
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
