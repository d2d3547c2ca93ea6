//! Prometheus metrics: request counts and latency per route pattern, method
//! and status, and the state of the database pool. Labels are bounded (route
//! patterns, never raw paths) and never carry a person's data.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

use crate::db::Database;
use crate::error::ApiError;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("sanad".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route", "status"],
        )?;
        let pool_connections = IntGauge::new(
            "db_pool_connections",
            "Connections the pool holds, busy or idle",
        )?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle connections in the pool")?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Largest size of the pool")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
        })
    }

    /// Adds a counter kept elsewhere (the password workers').
    pub fn register(&self, counter: prometheus::IntCounter) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(counter))
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    fn render(&self, db: &Database) -> Result<String, prometheus::Error> {
        let state = db.pool().state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.pool_max.set(i64::from(db.pool().max_size()));
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Prometheus text exposition of the service's metrics.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(
    metrics: web::Data<Metrics>,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let body = metrics.render(&db).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
