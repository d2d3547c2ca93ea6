//! Middleware that keeps the error contract whatever happens below it: a
//! panicking handler answers 500 with no detail, a handler past its time
//! answers 503, and any bare error actix produces itself (404 for an unknown
//! route, 405, header errors) is rewritten as `application/problem+json`.
//!
//! App-level middleware runs before routing, and actix's router needs to own
//! the request alone, so nothing here clones the request before the call.
//! A panic or a timeout is returned as an `Err(ApiError)`, which actix turns
//! into a response with our own `error_response` (problem+json).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use futures_util::FutureExt;

use crate::error::{ApiError, PROBLEM_JSON};

/// The longest a handler may run; from settings.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Turns a panic below this point into a 500 problem with no detail.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(_) => Err(ApiError::internal(anyhow::anyhow!("a request handler panicked")).into()),
    }
}

/// Abandons a request that runs past the configured timeout with a 503.
pub async fn timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limit = req
        .app_data::<web::Data<RequestTimeout>>()
        .map_or(Duration::from_secs(15), |t| t.0);
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            Err(ApiError::Timeout.into())
        }
    }
}

/// Rewrites any error answer that is not already problem+json.
pub async fn problem_for_bare_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // An `Err` here is one of ours (panic, timeout) and already renders as
    // problem+json.
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(response);
    }
    let replacement = match status.as_u16() {
        404 => ApiError::NotFound,
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge,
        415 => ApiError::UnsupportedMediaType,
        500 => ApiError::internal(anyhow::anyhow!("an error escaped without a problem body")),
        _ => ApiError::Http(status),
    };
    let (request, _) = response.into_parts();
    Ok(ServiceResponse::new(request, replacement.error_response()))
}

/// The Content-Security-Policy of everything but `/docs`: nothing may load.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// Swagger UI: its own scripts and styles only (it sets inline styles).
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// Security headers on every response. Answers other than the human docs
/// are `no-store`: any of them may hold a person's data, and a shared
/// office computer must not keep a copy in its cache.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    use actix_web::http::header::{self, HeaderValue};
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
    } else {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
