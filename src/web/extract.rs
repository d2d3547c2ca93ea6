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
use validator::Validate;

use crate::error::{ApiError, FieldError};

mod json;

#[cfg(test)]
pub(crate) use json::describe_rule;
pub(crate) use json::{NUL_MESSAGE, describe_data_error};
pub use json::{nesting_exceeds, parse_json, parse_json_within, validation_problem};

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
pub(crate) const MAX_FIELD_NAME_CHARS: usize = 64;

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

/// Parses and validates a query string with the same error rules, for
/// handlers that read `Query<T>` by hand.
pub fn parse_query<T: DeserializeOwned + Validate>(req: &HttpRequest) -> Result<T, ApiError> {
    let query = Query::<T>::from_query(req.query_string())
        .map(Query::into_inner)
        .map_err(|err| {
            // actix prefixes serde's own message, which names the field.
            let raw = err.to_string();
            let raw = raw
                .strip_prefix("Query deserialize error: ")
                .unwrap_or(&raw);
            let (field, message) = describe_data_error(".", raw);
            // A parameter name is echoed only when it is a plain name (an
            // unknown `from=` is named); anything else a client typed is
            // not repeated.
            let plain = !field.is_empty()
                && field.len() <= 32
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            let field = if field == "body" || !plain {
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
mod properties;
#[cfg(test)]
mod tests;
