//! `GET /health/live` and `GET /health/ready`.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Database;
use crate::error::{ApiError, Problem};

/// How long readiness waits for a database connection before saying no.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    pub status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(tag = "service", responses((status = 200, body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The service can do its work: the database answers.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    db.ping(READY_TIMEOUT).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
