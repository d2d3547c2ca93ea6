//! The middleware that answers in the language the request asks for: every
//! `application/problem+json` answer has its `title`, `detail` and each
//! `errors[].message` translated (never `type`, `status` or a field name),
//! and JSON, problem and CSV answers say their language in
//! `Content-Language`, with `Vary: Accept-Language`.
//!
//! It wraps everything that can make a problem (handlers, extractors, the
//! default service, panics and timeouts, CORS refusals), so no error path
//! escapes it.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};

use super::catalog::catalog;
use super::{Lang, negotiate};
use crate::error::PROBLEM_JSON;

/// Problems are small; a larger body is left as it is.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

pub async fn localise(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let lang = negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    req.extensions_mut().insert(lang);
    match next.call(req).await {
        Ok(response) => {
            let (request, response) = response.map_into_boxed_body().into_parts();
            let response = in_language(response, lang).await;
            Ok(ServiceResponse::new(request, response))
        }
        // A panic or a timeout below: rendered here, so that it too is
        // translated.
        Err(err) => {
            let response = in_language(err.error_response(), lang).await;
            Err(actix_web::error::InternalError::from_response(err.to_string(), response).into())
        }
    }
}

/// The language a request asked for (English when the middleware did not
/// run, as in unit tests).
pub fn language_of(req: &actix_web::HttpRequest) -> Lang {
    req.extensions().get::<Lang>().copied().unwrap_or(Lang::En)
}

async fn in_language(response: HttpResponse, lang: Lang) -> HttpResponse {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let problem = content_type.starts_with(PROBLEM_JSON);
    let labelled = problem
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/csv");
    let mut response = if problem && lang != Lang::En {
        translate_problem(response, lang).await
    } else {
        response
    };
    if labelled {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    response
}

async fn translate_problem(response: HttpResponse, lang: Lang) -> HttpResponse {
    let (response, body) = response.into_parts();
    let bytes = match body::to_bytes_limited(body, MAX_PROBLEM_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        // Unreadable or too large: sent untranslated would need the body
        // we just consumed; an empty problem is worse than none, so say so.
        _ => {
            tracing::warn!("a problem body could not be read for translation");
            return response.set_body(BoxBody::new(()));
        }
    };
    let Ok(mut problem) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return response.set_body(BoxBody::new(bytes));
    };
    let translated = translate_fields(&mut problem, lang);
    match serde_json::to_vec(&problem) {
        Ok(out) if translated => response.set_body(BoxBody::new(out)),
        _ => response.set_body(BoxBody::new(bytes)),
    }
}

/// Translates `title`, `detail` and `errors[].message` in place; whether
/// anything was there to translate.
pub fn translate_fields(problem: &mut serde_json::Value, lang: Lang) -> bool {
    let catalog = catalog();
    let mut any = false;
    let mut translate = |value: Option<&mut serde_json::Value>| {
        if let Some(serde_json::Value::String(text)) = value {
            let translated = catalog.translate(lang, text).into_owned();
            *text = translated;
            any = true;
        }
    };
    translate(problem.get_mut("title"));
    translate(problem.get_mut("detail"));
    if let Some(serde_json::Value::Array(errors)) = problem.get_mut("errors") {
        for error in errors {
            translate(error.get_mut("message"));
        }
    }
    any
}
