//! Serving the API's documentation: the OpenAPI document (rendered once by
//! [`super::openapi`] at start-up) and Swagger UI, compiled into the binary.

use actix_web::http::header;
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

/// Swagger UI at `/docs/`, reading the served document. Its validator is
/// off: it would send the document to validator.swagger.io, which the
/// content security policy refuses (and a deployment need not reach).
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}")
        .config(Config::new(["/api/v1/openapi.json"]).validator_url("none"))
}

/// `/docs` without its slash: a permanent redirect to the page.
pub async fn docs_without_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}
