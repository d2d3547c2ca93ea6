//! The route table: every handler the server serves, in one place. The
//! OpenAPI document is collected from this same table.

use utoipa_actix_web::service_config::ServiceConfig;

use crate::{health, metrics, openapi};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::routes::live)
        .service(health::routes::ready)
        .service(metrics::metrics)
        .service(utoipa_actix_web::scope("/api/v1").service(openapi::openapi_json));
}
