//! One error type, mapped to HTTP once, rendered as `application/problem+json`
//! (RFC 9457). The cause chain is kept for the log; the client gets a fixed,
//! opaque message for anything that is not its own fault.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One bad field of a request: `field` is a JSON path such as
/// `subject.date_of_birth` or `items[2].kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:sanad:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body could not be read as JSON at all.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The request was well-formed but some fields are wrong.
    #[error("invalid request: {} field(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// The client did not send its whole body within the read timeout.
    #[error("request body timed out")]
    BodyTimeout,
    /// A CORS preflight from an origin (or for a method or header) the
    /// settings do not allow.
    #[error("cross-origin request refused")]
    CrossOriginRefused,
    #[error("unauthenticated")]
    Unauthorized,
    /// The password was right, but the second factor is missing, wrong or
    /// already used: a 401 naming `totp_code`.
    #[error("second factor refused")]
    SecondFactor(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// The role must sign in with a second factor and this account has
    /// none yet: it may only enrol one.
    #[error("second factor required")]
    SecondFactorRequired,
    /// Also what an object outside the caller's scope answers.
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value that must be unique (a city code, a username) is already
    /// used: a 409 naming the field.
    #[error("{0} is taken")]
    Taken(&'static str),
    #[error("gone")]
    Gone,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database (or another dependency) cannot be reached right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("request timed out")]
    Timeout,
    /// PostgreSQL undid the transaction because it met another on the same
    /// rows (a deadlock, or a serialization failure): nothing was written,
    /// and the same request may simply be sent again.
    #[error("transaction contended")]
    Contended,
    /// Every password-check worker is busy and the queue is full.
    #[error("password checks are saturated")]
    Busy,
    /// An error status that the HTTP layer chose itself (431, 408, …).
    #[error("http error {0}")]
    Http(StatusCode),
    /// Our fault. The cause goes to the log, never to the client.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn internal(cause: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(cause.into())
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Malformed(_) => ("malformed-request", "Malformed request"),
            ApiError::Validation(_) => ("validation", "Invalid request"),
            ApiError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            ApiError::PayloadTooLarge => ("payload-too-large", "Request body too large"),
            ApiError::BodyTimeout => ("body-timeout", "Request body too slow"),
            ApiError::CrossOriginRefused => {
                ("cross-origin-refused", "Cross-origin request refused")
            }
            ApiError::Unauthorized => ("unauthorized", "Authentication required"),
            ApiError::SecondFactor(_) => ("second-factor", "Second factor refused"),
            ApiError::Forbidden => ("forbidden", "Not allowed"),
            ApiError::SecondFactorRequired => ("second-factor-required", "Second factor required"),
            ApiError::NotFound => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) | ApiError::Taken(_) => ("conflict", "Conflict"),
            ApiError::Gone => ("gone", "Gone"),
            ApiError::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            ApiError::PreconditionRequired => ("precondition-required", "Precondition required"),
            ApiError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::Timeout => ("timeout", "Request timed out"),
            ApiError::Busy => ("busy", "Too busy"),
            ApiError::Contended => ("contended", "Request collided"),
            ApiError::Http(_) => ("http", "Request not accepted"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    /// What the client is told. Only messages we wrote ourselves from the
    /// request's own shape are passed through; never a database message.
    fn detail(&self) -> String {
        match self {
            ApiError::Malformed(msg) => msg.clone(),
            ApiError::Validation(_) => "One or more fields are invalid; see errors.".into(),
            ApiError::UnsupportedMediaType => {
                "Send the body as application/json with a Content-Type header.".into()
            }
            ApiError::PayloadTooLarge => "The request body exceeds the size limit.".into(),
            ApiError::BodyTimeout => "The request body did not arrive in time.".into(),
            ApiError::CrossOriginRefused => {
                "Cross-origin requests from this origin are not allowed.".into()
            }
            ApiError::Unauthorized => "A valid bearer token is required.".into(),
            ApiError::SecondFactor(_) => {
                "The code of the second factor is missing, wrong or already used; see errors."
                    .into()
            }
            ApiError::Forbidden => "Your role may not do this.".into(),
            ApiError::SecondFactorRequired => {
                "Your role signs in with a second factor: enrol one (POST /api/v1/me/totp), then sign in again with its code."
                    .into()
            }
            ApiError::NotFound => "No such resource.".into(),
            ApiError::MethodNotAllowed => "This resource does not accept that method.".into(),
            ApiError::Conflict(msg) => msg.clone(),
            ApiError::Taken(_) => "A value that must be unique is already in use; see errors.".into(),
            ApiError::Gone => "This resource has been erased.".into(),
            ApiError::PreconditionFailed => {
                "The resource changed since you read it; read it again.".into()
            }
            ApiError::PreconditionRequired => "Send If-Match with the ETag you last read.".into(),
            ApiError::TooManyRequests { .. } => "Too many attempts; wait and try again.".into(),
            ApiError::Unavailable(_) => {
                "The service cannot reach its database right now; try again shortly.".into()
            }
            ApiError::Timeout => "The request took too long and was abandoned.".into(),
            ApiError::Busy => "Too many passwords are being checked; try again shortly.".into(),
            ApiError::Contended => {
                "The request met another on the same records and was undone; send it again.".into()
            }
            ApiError::Http(status) => status
                .canonical_reason()
                .unwrap_or("The request was not accepted.")
                .into(),
            ApiError::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            kind: format!("urn:sanad:problem:{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                ApiError::SecondFactor(message) => vec![FieldError::new("totp_code", *message)],
                ApiError::Taken(field) => vec![FieldError::new(*field, "is taken")],
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::CrossOriginRefused => StatusCode::FORBIDDEN,
            ApiError::Unauthorized | ApiError::SecondFactor(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::SecondFactorRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::Taken(_) => StatusCode::CONFLICT,
            ApiError::Gone => StatusCode::GONE,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Timeout | ApiError::Busy | ApiError::Contended => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Http(status) => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "dependency unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if matches!(self, ApiError::Unauthorized | ApiError::SecondFactor(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if matches!(
            self,
            ApiError::Unavailable(_) | ApiError::Timeout | ApiError::Busy | ApiError::Contended
        ) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if matches!(self, ApiError::BodyTimeout) {
            // The rest of a slow body must not keep the connection open.
            response.force_close();
        }
        match serde_json::to_vec(&self.problem()) {
            Ok(body) => response.body(body),
            Err(_) => response.finish(),
        }
    }
}

impl ApiError {
    /// `err`, with a unique violation read as `field` being taken: for
    /// inserts whose only unique column is that field.
    pub fn taken_or(field: &'static str, err: diesel::result::Error) -> ApiError {
        match err {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiError::Taken(field),
            other => other.into(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> ApiError {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match err {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(Kind::UniqueViolation, _) => {
                ApiError::Conflict("A record with the same unique value already exists.".into())
            }
            // PostgreSQL's answer to two transactions locking the same rows
            // in opposite orders (40P01, which diesel does not classify) or
            // to a serialization failure (40001): it undid this one.
            Error::DatabaseError(Kind::SerializationFailure, _) => ApiError::Contended,
            Error::DatabaseError(Kind::Unknown, info)
                if info.message().starts_with("deadlock detected") =>
            {
                ApiError::Contended
            }
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                ApiError::Unavailable(info.message().to_string())
            }
            Error::BrokenTransactionManager => {
                ApiError::Unavailable("broken transaction manager".into())
            }
            // A COMMIT that failed and whose ROLLBACK failed too: what the
            // client needs to know is why the commit failed.
            Error::RollbackErrorOnCommit { commit_error, .. } => ApiError::from(*commit_error),
            other => ApiError::Internal(other.into()),
        }
    }
}

/// One bad field: a 422 naming it.
impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> ApiError {
        ApiError::Validation(vec![err])
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(err: r2d2::Error) -> ApiError {
        ApiError::Unavailable(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_reach_the_client() {
        let err = ApiError::internal(anyhow::anyhow!("relation \"cases\" has secret row"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn unique_violations_are_conflicts() {
        #[derive(Debug)]
        struct Info;
        impl diesel::result::DatabaseErrorInformation for Info {
            fn message(&self) -> &str {
                "duplicate key value violates unique constraint \"x\" Key (code)=(secret)"
            }
            fn details(&self) -> Option<&str> {
                None
            }
            fn hint(&self) -> Option<&str> {
                None
            }
            fn table_name(&self) -> Option<&str> {
                None
            }
            fn column_name(&self) -> Option<&str> {
                None
            }
            fn constraint_name(&self) -> Option<&str> {
                None
            }
            fn statement_position(&self) -> Option<i32> {
                None
            }
        }
        let err: ApiError = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new(Info),
        )
        .into();
        let problem = err.problem();
        assert_eq!(problem.status, 409);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn a_deadlock_or_serialization_failure_is_a_503_to_send_again() {
        #[derive(Debug)]
        struct Deadlock;
        impl diesel::result::DatabaseErrorInformation for Deadlock {
            fn message(&self) -> &str {
                "deadlock detected"
            }
            fn details(&self) -> Option<&str> {
                Some("Process 1 waits for ShareLock on transaction 2")
            }
            fn hint(&self) -> Option<&str> {
                None
            }
            fn table_name(&self) -> Option<&str> {
                None
            }
            fn column_name(&self) -> Option<&str> {
                None
            }
            fn constraint_name(&self) -> Option<&str> {
                None
            }
            fn statement_position(&self) -> Option<i32> {
                None
            }
        }
        use diesel::result::DatabaseErrorKind as Kind;
        for kind in [Kind::Unknown, Kind::SerializationFailure] {
            let err: ApiError =
                diesel::result::Error::DatabaseError(kind, Box::new(Deadlock)).into();
            assert!(matches!(err, ApiError::Contended), "{err:?}");
            let response = err.error_response();
            assert_eq!(response.status().as_u16(), 503);
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
        }
    }
}
