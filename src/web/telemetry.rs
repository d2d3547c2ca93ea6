//! Structured logs: the tracing subscriber, and the middleware that gives
//! every request an id, a span, one log line when it ends, and its metrics.
//!
//! Only the route *pattern* (`/api/v1/cases/{id}`) is logged or used as a
//! metric label, never the raw path or query string.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use uuid::Uuid;

use crate::settings::{LogFormat, LogSettings};
use crate::web::metrics::Metrics;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Crates that, below `info`, log raw request paths, query strings or
/// payload errors — where a person's name or ID typed by a client would end
/// up. They are held at `info` whatever level is asked for.
const HELD_AT_INFO: [&str; 5] = [
    "actix_web",
    "actix_http",
    "actix_server",
    "actix_router",
    "h2",
];

/// The filter directives: the requested ones, without any for the crates
/// above, then those crates at `info` (a target directive beats a bare level).
fn filter_spec(requested: &str) -> String {
    let mut directives: Vec<String> = requested
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !HELD_AT_INFO.iter().any(|c| d.starts_with(c)))
        .map(str::to_string)
        .collect();
    directives.extend(HELD_AT_INFO.iter().map(|c| format!("{c}=info")));
    directives.join(",")
}

/// Installs the global subscriber. `RUST_LOG` overrides the configured level,
/// except that crates which log raw requests never go below `info`.
pub fn init(settings: &LogSettings) {
    let requested = std::env::var("RUST_LOG").unwrap_or_else(|_| settings.level.clone());
    let filter = EnvFilter::try_new(filter_spec(&requested))
        .or_else(|_| EnvFilter::try_new(filter_spec("info")))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
    if result.is_err() {
        tracing::debug!("a tracing subscriber was already installed");
    }
    install_panic_hook();
}

/// Logs where a panic happened but not its message: a message could carry
/// whatever value the code was handling.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown".into());
        tracing::error!(%location, "panic");
    }));
}

/// The id of the current request, for handlers and the audit log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// Accepts a caller's id only when it is short and plain; otherwise makes one.
    fn from_header(value: Option<&HeaderValue>) -> RequestId {
        let given = value
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(str::to_string);
        RequestId(given.unwrap_or_else(|| Uuid::new_v4().to_string()))
    }
}

impl RequestId {
    /// The id `observe` gave this request (a new one outside the middleware).
    pub fn of(req: &actix_web::HttpRequest) -> RequestId {
        req.extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(Uuid::new_v4().to_string()))
    }
}

impl actix_web::FromRequest for RequestId {
    type Error = Error;
    type Future = std::future::Ready<Result<RequestId, Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(RequestId::of(req)))
    }
}

/// Outermost middleware: request id, span, the closing log line and metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = RequestId::from_header(req.headers().get(REQUEST_ID_HEADER));
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id.0,
        method = %method,
        route = %route,
    );
    req.extensions_mut().insert(request_id.clone());

    let result = next.call(req).instrument(span.clone()).await;

    // An `Err` (a panic or timeout below) is rendered by actix after this
    // point; it is still counted and logged here.
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    let mut response = result?;
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_logging_crates_stay_at_info_whatever_is_asked() {
        assert_eq!(
            filter_spec("trace,actix_web=trace, sanad=debug"),
            "trace,sanad=debug,actix_web=info,actix_http=info,actix_server=info,actix_router=info,h2=info"
        );
        assert!(EnvFilter::try_new(filter_spec("debug")).is_ok());
    }

    #[test]
    fn plain_request_ids_are_kept_and_others_replaced() {
        let kept = RequestId::from_header(Some(&HeaderValue::from_static("abc-123_X")));
        assert_eq!(kept.0, "abc-123_X");
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let value = HeaderValue::from_str(bad).unwrap();
            let made = RequestId::from_header(Some(&value));
            assert!(Uuid::parse_str(&made.0).is_ok(), "{bad:?} -> {}", made.0);
        }
    }
}
