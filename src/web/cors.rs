//! Cross-origin requests (CORS), closed by default.
//!
//! With `server.cors_allowed_origins` empty (the default) no response ever
//! carries `Access-Control-Allow-Origin` and every preflight is refused, so
//! a browser lets no other site's script read an answer. An origin listed
//! there is allowed exactly: the answer names that origin (never `*`, never
//! whatever the request sent), and only for the methods and headers the API
//! uses. Credentials (cookies) are never allowed: the API authenticates with
//! a bearer token, which a page must hold and send itself.
//!
//! Requests without an `Origin` header (every non-browser client) pass
//! through untouched. A disallowed origin's simple request is served
//! without CORS headers: the browser then withholds the answer from the
//! page, and a same-origin page (the `/docs` UI) keeps working.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};

use crate::error::ApiError;

/// The methods the API answers to, the only ones a preflight may ask for.
const METHODS: &str = "GET, POST, PATCH";
const ALLOWED_METHODS: [Method; 3] = [Method::GET, Method::POST, Method::PATCH];
/// Request headers a page may send (lower case, as preflights list them).
const HEADERS: &str = "authorization, content-type, if-match, x-request-id, accept";
const ALLOWED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "if-match",
    "x-request-id",
    "accept",
];
/// Response headers a page may read beyond the safelisted ones: the ETag
/// for `If-Match`, where a created resource is, when to retry, the id to
/// quote to an operator.
const EXPOSED: &str = "etag, location, retry-after, x-request-id";

/// The allowed origins, checked and normalised at start-up.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    origins: Vec<String>,
    max_age_secs: u32,
}

impl CorsPolicy {
    /// The policy of the configured origins (`server.cors_allowed_origins`)
    /// and preflight lifetime, or why an origin is unusable. An origin is
    /// `scheme://host[:port]` with nothing after it, as a browser sends it;
    /// `*` and `null` are refused, and in production so is plain `http://`
    /// (a page served without TLS can be rewritten in transit).
    pub fn new(
        allowed_origins: &[String],
        max_age_secs: u32,
        production: bool,
    ) -> Result<CorsPolicy, String> {
        let mut origins = Vec::new();
        for (index, raw) in allowed_origins.iter().enumerate() {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let origin =
                normalise_origin(raw).map_err(|why| format!("entry {} {why}", index + 1))?;
            if production && !origin.starts_with("https://") {
                return Err(format!(
                    "entry {} must use https:// in production",
                    index + 1
                ));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(CorsPolicy {
            origins,
            max_age_secs,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.origins.is_empty()
    }

    /// The configured origin that `origin` names, if any. Browsers send
    /// scheme and host in lower case; the comparison ignores ASCII case
    /// anyway, and the answer repeats the configured text, not the request's.
    fn allowed(&self, origin: &HeaderValue) -> Option<&str> {
        let origin = origin.to_str().ok()?;
        self.origins
            .iter()
            .find(|o| o.eq_ignore_ascii_case(origin))
            .map(String::as_str)
    }
}

/// `scheme://host[:port]` in lower case, or why not.
fn normalise_origin(raw: &str) -> Result<String, &'static str> {
    if raw == "*" || raw.eq_ignore_ascii_case("null") {
        return Err("must name one origin; `*` and `null` are not allowed");
    }
    if !raw.is_ascii()
        || raw
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err("must be ASCII without spaces (write an international name in punycode)");
    }
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.contains(['/', '?', '#', '@', '\\', '*']) {
        return Err("must be scheme://host[:port] with no path, query, user or wildcard");
    }
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal without a port: `[::1]`.
        Some((_, tail)) if tail.ends_with(']') => (rest, None),
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if host.is_empty() {
        return Err("has no host");
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err("has a port that is not a number from 1 to 65535");
    }
    Ok(lower)
}

/// Applies [`CorsPolicy`]: answers preflights itself, and marks the
/// answers to allowed origins.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = req
        .app_data::<web::Data<CorsPolicy>>()
        .map(|p| p.get_ref().clone())
        .unwrap_or_default();
    let allowed = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| policy.allowed(origin))
        .and_then(|origin| HeaderValue::from_str(origin).ok());
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let response = match allowed {
            Some(origin) if asks_only_for_what_is_allowed(req.headers()) => {
                preflight_answer(origin, policy.max_age_secs)
            }
            _ => {
                tracing::info!("cross-origin preflight refused");
                let mut refused = ApiError::CrossOriginRefused.error_response();
                vary(refused.headers_mut(), &policy);
                refused
            }
        };
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    vary(headers, &policy);
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    Ok(response)
}

/// Whether the preflight asks for one of our methods and only our headers.
fn asks_only_for_what_is_allowed(headers: &HeaderMap) -> bool {
    let method_ok = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .is_some_and(|m| ALLOWED_METHODS.contains(&m));
    let headers_ok = headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .all(|value| {
            value.to_str().is_ok_and(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .all(|name| {
                        ALLOWED_HEADERS
                            .iter()
                            .any(|allowed| allowed.eq_ignore_ascii_case(name))
                    })
            })
        });
    method_ok && headers_ok
}

fn preflight_answer(origin: HeaderValue, max_age_secs: u32) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::NO_CONTENT);
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        ))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(HEADERS),
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, max_age_secs.to_string()))
        .insert_header((
            header::VARY,
            HeaderValue::from_static(
                "origin, access-control-request-method, access-control-request-headers",
            ),
        ));
    response.finish()
}

/// Once any origin is allowed, answers differ by `Origin`: say so to caches.
fn vary(headers: &mut HeaderMap, policy: &CorsPolicy) {
    if !policy.is_closed() {
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Environment;
    use proptest::prelude::*;

    fn policy(origins: &[&str], environment: Environment) -> Result<CorsPolicy, String> {
        let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
        CorsPolicy::new(&origins, 600, environment == Environment::Production)
    }

    #[test]
    fn origins_are_normalised_and_exact() {
        let p = policy(
            &["https://App.Example.org", " http://localhost:3000 ", ""],
            Environment::Local,
        )
        .unwrap();
        assert_eq!(
            p.origins,
            ["https://app.example.org", "http://localhost:3000"]
        );
        let ask = |o: &str| {
            p.allowed(&HeaderValue::from_str(o).unwrap())
                .map(str::to_string)
        };
        assert_eq!(
            ask("https://app.example.org").as_deref(),
            Some("https://app.example.org")
        );
        for other in [
            "https://app.example.org.evil.net",
            "https://evil.app.example.org",
            "http://app.example.org",
            "https://app.example.org:8443",
            "null",
            "*",
        ] {
            assert_eq!(ask(other), None, "{other}");
        }
    }

    #[test]
    fn wildcards_paths_and_nonsense_are_refused() {
        for bad in [
            "*",
            "null",
            "https://*.example.org",
            "https://example.org/",
            "https://example.org/app",
            "https://user@example.org",
            "example.org",
            "ftp://example.org",
            "https://",
            "https://example.org:0",
            "https://example.org:99999",
            "https://exa mple.org",
            "https://مثال.عراق",
        ] {
            let err = policy(&[bad], Environment::Local).unwrap_err();
            assert!(err.starts_with("entry 1 "), "{bad}: {err}");
        }
        assert!(policy(&["https://[::1]:8443"], Environment::Local).is_ok());
        assert!(policy(&["https://[::1]"], Environment::Local).is_ok());
    }

    #[test]
    fn production_wants_https() {
        assert!(policy(&["http://app.example.org"], Environment::Production).is_err());
        assert!(policy(&["https://app.example.org"], Environment::Production).is_ok());
    }

    proptest! {
        /// Whatever an operator writes, checking it never panics, and what
        /// it accepts is one plain origin.
        #[test]
        fn any_setting_is_checked_without_panic(raw in "\\PC{0,60}") {
            if let Ok(p) = policy(&[raw.as_str()], Environment::Local) {
                for origin in &p.origins {
                    prop_assert!(origin.starts_with("http://") || origin.starts_with("https://"));
                    let authority = origin.split_once("://").map_or("", |(_, a)| a);
                    prop_assert!(!authority.is_empty() && !authority.contains(['/', '*', '@']));
                }
            }
        }
    }
}
