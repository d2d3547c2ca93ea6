//! Every message the API can send is in the catalogs: the literals the
//! source passes to the error constructors (found by reading `src/`), and
//! the messages made by functions (validation rules, serde errors, the
//! password policy, the problems' own titles and details).

use std::path::{Path, PathBuf};

use super::Lang;
use super::catalog::{Catalog, placeholders};
use crate::error::ApiError;

/// Calls whose argument (by position) is a message, and constants that are.
const CALLS: &[(&str, usize)] = &[
    ("ApiError::field(", 1),
    ("FieldError::new(", 1),
    ("ApiError::Conflict(", 0),
    ("ApiError::Malformed(", 0),
    ("ApiError::SecondFactor(", 0),
    ("Invalid(", 0),
    ("Error::custom(", 0),
    ("_MESSAGE: &str = ", 0),
];

/// Folders whose messages never reach an HTTP client (the command line
/// prints its own).
const SKIPPED: &[&str] = &["cli"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !SKIPPED.contains(&name) {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && path
                .file_name()
                .is_some_and(|n| n != "tests.rs" && n != "coverage.rs")
        {
            out.push(path);
        }
    }
}

/// The top-level arguments of a call whose `(` was just before `text`.
fn arguments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                out.push(text[start..i].trim());
                return out;
            }
            ')' | ']' | '}' => depth -= 1,
            ',' | ';' if depth == 0 => {
                out.push(text[start..i].trim());
                if c == ';' {
                    return out;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// The message literal of an argument: a string literal, or the format
/// string of `format!`; `None` for anything computed.
fn literal(argument: &str) -> Option<String> {
    let rest = argument
        .strip_prefix("format!(")
        .map(str::trim_start)
        .unwrap_or(argument);
    let body = rest.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                '\n' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                'n' => out.push('\n'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Every message literal in `src/`, with the file it is in.
fn source_messages() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (call, index) in CALLS {
            for (at, _) in text.match_indices(call) {
                let args = arguments(&text[at + call.len()..]);
                if let Some(message) = args.get(*index).and_then(|a| literal(a)) {
                    out.push((file.display().to_string(), message));
                }
            }
        }
    }
    out
}

/// What is wrong with `message` as a catalog entry, if anything.
fn check(catalog: &Catalog, message: &str) -> Option<String> {
    if message.contains("{}") || message.contains(":?}") {
        return Some(format!("{message:?}: name its placeholders ({{name}})"));
    }
    let english: Vec<&str> = catalog
        .keys(Lang::En)
        .into_iter()
        .filter_map(|key| catalog.text(Lang::En, key))
        .collect();
    let known = if placeholders(message).is_empty() {
        catalog.recognise(message).is_some()
    } else {
        english.contains(&message)
    };
    (!known).then(|| format!("{message:?} is not in locales/en.toml"))
}

#[test]
fn the_scan_finds_the_messages_it_should() {
    let found = source_messages();
    let has = |m: &str| found.iter().any(|(_, f)| f == m);
    assert!(has("does not exist"));
    assert!(has(
        "The referral is {state}: it cannot {transition}. Allowed now: {steps}."
    ));
    // A literal continued over lines with `\`.
    assert!(has(
        "A grant for this account is waiting for a second person; it must be approved or rejected first."
    ));
    assert!(has("must not contain the character U+0000"));
    assert!(found.len() > 70, "only {} messages found", found.len());
}

#[test]
fn every_message_in_the_source_is_in_the_catalogs() {
    let catalog = Catalog::load().expect("the catalogs parse");
    let missing: Vec<String> = source_messages()
        .into_iter()
        .filter_map(|(file, message)| check(&catalog, &message).map(|why| format!("{file}: {why}")))
        .collect();
    assert!(
        missing.is_empty(),
        "untranslated messages:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_made_message_is_in_the_catalogs() {
    use actix_web::ResponseError;
    let catalog = Catalog::load().expect("the catalogs parse");
    let mut messages: Vec<String> = Vec::new();
    // The problems' own titles and details.
    let errors = [
        ApiError::Malformed("x".into()),
        ApiError::Validation(Vec::new()),
        ApiError::UnsupportedMediaType,
        ApiError::PayloadTooLarge,
        ApiError::BodyTimeout,
        ApiError::CrossOriginRefused,
        ApiError::Unauthorized,
        ApiError::SecondFactor("is required for this account"),
        ApiError::Forbidden,
        ApiError::SecondFactorRequired,
        ApiError::NotFound,
        ApiError::MethodNotAllowed,
        ApiError::Conflict("x".into()),
        ApiError::Taken("code"),
        ApiError::Gone,
        ApiError::PreconditionFailed,
        ApiError::PreconditionRequired,
        ApiError::TooManyRequests {
            retry_after_secs: 1,
        },
        ApiError::Unavailable("x".into()),
        ApiError::Timeout,
        ApiError::Busy,
        ApiError::Contended,
        ApiError::Http(actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        ApiError::Http(actix_web::http::StatusCode::REQUEST_TIMEOUT),
        ApiError::Http(actix_web::http::StatusCode::BAD_REQUEST),
        ApiError::Http(actix_web::http::StatusCode::URI_TOO_LONG),
        ApiError::Http(actix_web::http::StatusCode::LENGTH_REQUIRED),
        ApiError::Http(actix_web::http::StatusCode::NOT_ACCEPTABLE),
        ApiError::internal(anyhow::anyhow!("x")),
    ];
    for error in &errors {
        let problem = error.problem();
        assert_eq!(problem.status, error.status_code().as_u16());
        messages.push(problem.title);
        if !matches!(error, ApiError::Malformed(_) | ApiError::Conflict(_)) {
            messages.push(problem.detail);
        }
        messages.extend(problem.errors.into_iter().map(|e| e.message));
    }
    // Validation rules.
    for (code, params) in [
        ("length", vec![("equal", 4)]),
        ("length", vec![("min", 1), ("max", 200)]),
        ("length", vec![("min", 1)]),
        ("length", vec![("max", 200)]),
        ("length", vec![]),
        ("range", vec![("min", 1), ("max", 20)]),
        ("range", vec![("min", 1)]),
        ("range", vec![("max", 20)]),
        ("range", vec![]),
        ("required", vec![]),
        ("email", vec![]),
        ("custom_rule", vec![]),
    ] {
        let mut error = validator::ValidationError::new(code);
        for (name, value) in params {
            error.add_param(name.into(), &value);
        }
        messages.push(crate::web::extract::describe_rule(&error));
    }
    // Serde's errors, as the extractors word them.
    for raw in [
        "missing field `sex`",
        "unknown field `sexx`, expected one of `sex`",
        "unknown variant `x`, expected `female` or `male`",
        "unknown variant `x`, expected one of `camp`, `detention`",
        "invalid type: integer `5`, expected a string",
        "invalid type: string \"x\", expected a boolean",
        "invalid type: map, expected a sequence",
        "something \"quoted\" we do not know",
        "invalid type: string \"x\", expected struct OriginInput",
        "invalid type: integer `-1`, expected u32",
        "invalid type: string \"x\", expected i64",
        "invalid type: string \"x\", expected f64",
        "invalid value: string \"x\", expected `one`",
        "UUID parsing failed: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `z` at 1",
        // chrono's, for dates and times.
        "premature end of input",
        "input contains invalid characters",
        "input is out of range",
        "trailing input",
    ] {
        messages.push(crate::web::extract::describe_data_error(".", raw).1);
    }
    // The password policy.
    for password in [
        "short",
        "password1234",
        "aaaaaaaaaaaaaaaa",
        "amira-is-my-name-2026",
    ] {
        if let Some(message) = crate::auth::password::weakness(password, "amira", 12) {
            messages.push(message);
        }
    }
    messages.push(crate::auth::password::weakness(&"x".repeat(5000), "", 12).unwrap_or_default());
    // The statistics' table offers, and the audit lookups' reasons.
    for subject in [
        crate::stats::design::Subject::Cases,
        crate::stats::design::Subject::Referrals,
        crate::stats::design::Subject::Assessments,
    ] {
        messages.push(crate::stats::design::available(subject));
    }
    messages.extend(["holds no digit".into(), "holds no letter or digit".into()]);
    let missing: Vec<String> = messages
        .iter()
        .filter(|m| catalog.recognise(m).is_none())
        .cloned()
        .collect();
    assert!(missing.is_empty(), "untranslated messages: {missing:#?}");
}
