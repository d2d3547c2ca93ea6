//! Serving the API's documentation: the OpenAPI document (rendered once by
//! [`super::openapi`] at start-up) and Swagger UI, compiled into the binary.

use actix_web::{HttpResponse, get, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// The document as served, rendered once at start-up.
pub struct OpenApiJson(pub String);

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Swagger UI at `/docs/`, reading the served document.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"]))
}
