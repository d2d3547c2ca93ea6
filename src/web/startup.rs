//! Builds the application: database, HTTP server, middleware and routes.
//! Tests call [`Application::build`] with port 0 and read [`Application::port`].

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::AppExt;

use crate::auth::address::{ClientAddresses, InFlight};
use crate::auth::jwt::{PublicKey, TokenKeyError, TokenKeys};
use crate::auth::password;
use crate::auth::state::AuthState;
use crate::auth::throttle::LoginThrottle;
use crate::auth::work::PasswordWork;
use crate::crypto::{AuditKeys, Keyring, KeyringError, Tagger};
use crate::db::{Database, DbError};
use crate::error::ApiError;
use crate::settings::{Settings, SettingsError};
use crate::web::cors;
use crate::web::docs::{self, OpenApiJson};
use crate::web::extract::{self, JsonLimits};
use crate::web::metrics::Metrics;
use crate::web::middleware::{self, RequestTimeout};
use crate::web::openapi::{self, AllowedMethods};
use crate::web::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("could not listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("could not set up metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("could not render the OpenAPI document: {0}")]
    OpenApi(#[from] serde_json::Error),
    #[error("keyring: {0}")]
    Keyring(#[from] KeyringError),
    #[error("deriving the blind-index keys: {0}")]
    Crypto(crate::crypto::CryptoError),
    #[error("token signing keys: {0}")]
    TokenKeys(#[from] TokenKeyError),
    #[error("could not prepare password checks: {0}")]
    Password(crate::error::ApiError),
    #[error("could not re-chain the audit events from before the audit key: {0}")]
    Rechain(crate::error::ApiError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("could not store the built-in assessment instrument: {0}")]
    Instrument(ApiError),
    #[error(
        "Application::build must be called inside a Tokio runtime (it starts the audit sequencer)"
    )]
    NoRuntime,
}

/// How often the audit sequencer looks for committed, unchained events.
pub const AUDIT_SEQUENCER_INTERVAL: Duration = Duration::from_millis(50);

pub struct Application {
    port: u16,
    server: Server,
    db: Database,
    sequencer: tokio::task::JoinHandle<()>,
    releases: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Connects to the database (migrating it when the settings say so),
    /// binds the listener and prepares the server; `run_until_stopped` serves.
    pub fn build(settings: Settings) -> Result<Application, StartupError> {
        // Settings changed after loading (tests, embedders) are held to the
        // same limits.
        settings.validate()?;
        let keyring = Keyring::load(&settings.crypto, settings.environment)?;
        let audit_keys = Arc::new(AuditKeys::from_keyring(&keyring)?);
        let db = Database::connect(&settings.database, settings.database.run_migrations)?
            .with_audit_keys(Arc::clone(&audit_keys));
        rechain_once(&db, &audit_keys)?;
        // The built-in assessment instrument, stored once (idempotent).
        db.pool()
            .get()
            .map_err(ApiError::from)
            .and_then(|mut conn| crate::assessments::instruments::ensure_default(&mut conn))
            .map_err(StartupError::Instrument)?;
        let (server, port) = serve(db.clone(), keyring, &settings)?;
        tokio::runtime::Handle::try_current().map_err(|_| StartupError::NoRuntime)?;
        let sequencer =
            crate::audit::spawn_sequencer(db.clone(), audit_keys, AUDIT_SEQUENCER_INTERVAL);
        let releases = settings
            .stats
            .auto_release
            .then(|| crate::stats::schedule::spawn(db.clone(), settings.stats.clone()));
        tracing::info!(
            port,
            backend = db.backend().as_str(),
            environment = settings.environment.as_str(),
            "listening"
        );
        Ok(Application {
            port,
            server,
            db,
            sequencer,
            releases,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests, signal handlers).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish
    /// and stops the audit sequencer (events it has not chained yet are
    /// chained by the next process, or by `sanad audit verify`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.sequencer.abort();
        if let Some(releases) = self.releases {
            releases.abort();
        }
        served
    }
}

/// The events from before the audit key, sealed and chained once, before
/// anything is served (`audit::rechain`).
fn rechain_once(db: &Database, keys: &AuditKeys) -> Result<(), StartupError> {
    let mut conn = db
        .pool()
        .get()
        .map_err(|err| StartupError::Rechain(ApiError::from(err)))?;
    match crate::audit::rechain::run_once(&mut conn, keys) {
        Ok(Some(done)) => {
            tracing::warn!(
                chained = done.chained,
                pending = done.pending,
                legacy_chain_held = done.legacy_broken_at.is_none(),
                "the audit events from before the audit key were sealed and chained again (once)"
            );
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(err) => Err(StartupError::Rechain(err)),
    }
}

/// No route took the request: a known path with another method is 405
/// with `Allow` naming the methods it is served with (actix's method guards
/// hide the resource), anything else 404.
async fn unrouted(
    req: actix_web::HttpRequest,
    allowed: web::Data<AllowedMethods>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let Some(pattern) = req.match_pattern() else {
        return Err(ApiError::NotFound);
    };
    let mut response = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
    if let Some(methods) = allowed.0.get(&openapi::document_path(&pattern))
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(methods)
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    Ok(response)
}

/// The token keys and login state, from the keyring and settings: the
/// throttle's keyed hashes, the password workers, the client addresses.
fn auth_state(keyring: &Keyring, settings: &Settings) -> Result<AuthState, StartupError> {
    let (kid, _) = keyring.signing_key();
    let public = keyring
        .verifying_keys()
        .into_iter()
        .map(|(kid, raw)| PublicKey { kid, raw })
        .collect();
    let auth = &settings.auth;
    let tagger = Tagger::new(keyring, "login-throttle").map_err(StartupError::Crypto)?;
    Ok(AuthState {
        keys: TokenKeys::new(kid, keyring.signing_pkcs8_der(), public, auth)?,
        settings: auth.clone(),
        throttle: LoginThrottle::new(auth, tagger),
        work: PasswordWork::start(auth.password_threads(), auth.password_queue)?,
        addresses: ClientAddresses::new(&settings.server),
        in_flight: InFlight::new(auth.max_concurrent_logins_per_address),
        dummy_hash: password::dummy_hash().map_err(StartupError::Password)?,
    })
}

/// The server with its routes and limits, bound; and the port it bound.
fn serve(
    db: Database,
    keyring: Keyring,
    settings: &Settings,
) -> Result<(Server, u16), StartupError> {
    let auth = web::Data::new(auth_state(&keyring, settings)?);
    let indexer =
        web::Data::new(crate::crypto::BlindIndexer::new(&keyring).map_err(StartupError::Crypto)?);
    let keyring = web::Data::new(keyring);
    let metrics = Metrics::new()?;
    metrics.register(auth.work.runs.clone())?;
    metrics.register(auth.work.refused.clone())?;
    let metrics = web::Data::new(metrics);
    let db = web::Data::new(db);
    let document = openapi::document();
    let allowed = web::Data::new(AllowedMethods(openapi::allowed_methods(&document)));
    let doc = web::Data::new(OpenApiJson(serde_json::to_string(&document)?));
    let json_limits = JsonLimits {
        body_bytes: settings.server.body_limit_bytes,
        max_depth: settings.server.json_max_depth,
        read_timeout: settings.server.body_read_timeout(),
    };
    let pagination = settings.pagination;
    let cors = web::Data::new(settings.cors_policy()?);
    let assessments = web::Data::new(settings.assessments);
    let follow_ups = web::Data::new(settings.follow_ups);
    let stats_gate = web::Data::new(crate::stats::gate::StatsGate::new(
        settings.stats.max_concurrent_per_user,
    ));
    let timeout = web::Data::new(RequestTimeout(settings.server.request_timeout()));

    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .configure(crate::web::routes::configure)
            .split_for_parts();
        app.app_data(db.clone())
            .app_data(auth.clone())
            .app_data(keyring.clone())
            .app_data(indexer.clone())
            .app_data(metrics.clone())
            .app_data(doc.clone())
            .app_data(allowed.clone())
            .app_data(timeout.clone())
            .app_data(json_limits)
            .app_data(pagination)
            .app_data(cors.clone())
            .app_data(stats_gate.clone())
            .app_data(assessments.clone())
            .app_data(follow_ups.clone())
            .app_data(extract::query_config())
            .app_data(extract::path_config())
            .route("/docs", web::get().to(docs::docs_without_slash))
            .service(docs::swagger_ui())
            .default_service(web::to(unrouted))
            .wrap(from_fn(middleware::catch_panic))
            .wrap(from_fn(middleware::timeout))
            .wrap(from_fn(middleware::problem_for_bare_errors))
            .wrap(from_fn(cors::cors))
            // Outside CORS and the problem rewriting, so that every answer,
            // refusals included, is in the asked language.
            .wrap(from_fn(crate::i18n::localise::localise))
            .wrap(from_fn(middleware::security_headers))
            .wrap(from_fn(telemetry::observe))
    })
    .client_request_timeout(settings.server.client_request_timeout())
    .client_disconnect_timeout(settings.server.client_disconnect_timeout())
    .keep_alive(match settings.server.keep_alive_secs {
        0 => KeepAlive::Disabled,
        secs => KeepAlive::Timeout(Duration::from_secs(secs)),
    })
    .max_connections(settings.server.max_connections_per_worker)
    // The backlog applies to sockets bound after it is set.
    .backlog(settings.server.backlog)
    .shutdown_timeout(settings.server.shutdown_timeout_secs);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    let address = format!("{}:{}", settings.server.host, settings.server.port);
    server = server
        .bind(&address)
        .map_err(|source| StartupError::Bind { address, source })?;
    let port = server
        .addrs()
        .first()
        .map(|a| a.port())
        .ok_or_else(|| std::io::Error::other("bound no address"))?;
    Ok((server.run(), port))
}
