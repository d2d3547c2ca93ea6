//! Typed settings: `config/default.toml`, then `config/$SANAD_ENV.toml`, then
//! environment variables `SANAD__SECTION__KEY`. Secrets are wrapped so that a
//! `Debug` print of the settings never shows them.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Which deployment the process runs as; chosen by `SANAD_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine or a small office: forgiving defaults.
    Local,
    /// A real deployment: missing secrets stop start-up.
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Production => "production",
        }
    }
}

impl TryFrom<String> for Environment {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.to_lowercase().as_str() {
            "local" => Ok(Environment::Local),
            "production" => Ok(Environment::Production),
            other => Err(format!(
                "SANAD_ENV is {other:?}; use either \"local\" or \"production\""
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub crypto: CryptoSettings,
    pub auth: AuthSettings,
    pub stats: StatsSettings,
    pub assessments: AssessmentSettings,
    pub follow_ups: FollowUpSettings,
    pub pagination: PaginationSettings,
    pub paths: PathSettings,
}

/// Where the server keeps its files.
#[derive(Debug, Clone, Deserialize)]
pub struct PathSettings {
    /// A relative SQLite database path or keyring path is resolved against
    /// this directory; itself relative to the working directory when
    /// relative.
    pub data_dir: PathBuf,
}

/// Page sizes of every paged list (`limit=`): the size when the client asks
/// for none, and the largest it may ask for (a larger `limit` is clamped).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PaginationSettings {
    pub default_page_size: u32,
    pub max_page_size: u32,
}

/// The largest `pagination.max_page_size` accepted: a page of cases is
/// decrypted row by row inside one request.
pub const PAGE_SIZE_CEILING: u32 = 1000;

impl PaginationSettings {
    /// The page size for a requested `limit`: the default when absent,
    /// otherwise clamped to 1..=max.
    pub fn page_size(&self, requested: Option<u32>) -> u32 {
        requested
            .unwrap_or(self.default_page_size)
            .clamp(1, self.max_page_size.max(1))
    }
}

pub use crate::stats::settings::StatsSettings;

/// `[assessments]`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AssessmentSettings {
    /// Days after the baseline, or the latest follow-up, that the next
    /// follow-up assessment falls due. 7 to 730.
    pub follow_up_days: u32,
}

/// `[follow_ups]`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct FollowUpSettings {
    /// Days after a referral is completed or declined that the system's
    /// referral check falls due. 1 to 365.
    pub referral_check_days: u32,
    /// Days without contact with any member after which a household is
    /// flagged in the work queue. 7 to 730.
    pub quiet_household_days: u32,
}

fn default_environment() -> Environment {
    Environment::Local
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    /// Largest request body read (413 above it).
    pub body_limit_bytes: usize,
    /// Deepest nesting of JSON arrays and objects in a body (400 above it),
    /// checked before the body is parsed.
    pub json_max_depth: usize,
    /// Time a new connection has to send its first request head.
    pub client_request_timeout_ms: u64,
    /// Time a request has to send its whole body once its head arrived.
    pub body_read_timeout_ms: u64,
    /// Idle time after which a kept-alive connection is closed; 0 turns
    /// keep-alive off (one request per connection).
    pub keep_alive_secs: u64,
    /// Time a client gets to complete the close of its connection.
    pub client_disconnect_timeout_ms: u64,
    /// Open connections per worker before it stops accepting more.
    pub max_connections_per_worker: usize,
    /// Connections the operating system queues before they are accepted.
    pub backlog: u32,
    pub request_timeout_ms: u64,
    pub shutdown_timeout_secs: u64,
    /// Browser origins (`https://host[:port]`) allowed to call the API
    /// cross-origin; empty (the default) allows none.
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
    /// How long a browser may cache a preflight answer.
    pub cors_max_age_secs: u32,
    /// Reverse proxies (exact addresses) trusted to name the client in
    /// `client_address_header`. Empty (the default): the client is the TCP
    /// peer, and the header is never read.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
    /// The header a trusted proxy names the client in (`X-Forwarded-For`;
    /// the proxy must set it, not pass on what the client sent).
    pub client_address_header: String,
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn client_request_timeout(&self) -> Duration {
        Duration::from_millis(self.client_request_timeout_ms)
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }

    pub fn client_disconnect_timeout(&self) -> Duration {
        Duration::from_millis(self.client_disconnect_timeout_ms)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May hold a password, so it never prints.
    pub url: SecretString,
    pub pool_max_size: u32,
    pub pool_min_idle: u32,
    pub pool_connection_timeout_ms: u64,
    pub sqlite_busy_timeout_ms: u64,
    pub run_migrations: bool,
}

impl DatabaseSettings {
    pub fn pool_connection_timeout(&self) -> Duration {
        Duration::from_millis(self.pool_connection_timeout_ms)
    }

    /// The database URL; call sites that need it are few and never log it.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

/// Where the keyring (key-encryption keys, blind-index root, token signing
/// keys) comes from: a file, or an environment variable holding the same JSON
/// (`SANAD__CRYPTO__KEYRING_JSON`), which wins when both are set.
#[derive(Debug, Clone, Deserialize)]
pub struct CryptoSettings {
    pub keyring_file: Option<PathBuf>,
    #[serde(default)]
    pub keyring_json: Option<SecretString>,
}

pub use crate::auth::settings::AuthSettings;

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// `SANAD__SECTION__KEY` variables.
fn environment_variables() -> config::Environment {
    config::Environment::with_prefix("SANAD")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        // `SANAD__SERVER__CORS_ALLOWED_ORIGINS=https://a,https://b`, and
        // the same for the trusted proxies and the roles that need a second
        // factor; no other key is split (the keyring JSON has commas).
        .list_separator(",")
        .with_list_parse_key("server.cors_allowed_origins")
        .with_list_parse_key("server.trusted_proxies")
        .with_list_parse_key("auth.totp_required_roles")
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Environment(String),
    #[error("could not read settings: {0}")]
    Config(#[from] config::ConfigError),
    #[error("invalid setting {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// The settings compiled into the binary: `config/*.toml` as they were at
/// build time. Files on disk only override them, so the binary runs from
/// any directory with no `config/` beside it.
const BUILT_IN: [(&str, &str); 3] = [
    ("default", include_str!("../config/default.toml")),
    ("local", include_str!("../config/local.toml")),
    ("production", include_str!("../config/production.toml")),
];

fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
}

impl Settings {
    /// Reads settings with `<base_dir>/config` as the override directory.
    pub fn load(base_dir: &Path) -> Result<Settings, SettingsError> {
        Settings::load_from(Some(&base_dir.join("config")))
    }

    /// Reads the built-in settings, then `default.toml` and
    /// `$SANAD_ENV.toml` from `config_dir` where they exist, then
    /// `SANAD__…` variables; each source overrides the one before. A
    /// relative SQLite or keyring path is then resolved against
    /// `paths.data_dir`.
    pub fn load_from(config_dir: Option<&Path>) -> Result<Settings, SettingsError> {
        let environment: Environment = std::env::var("SANAD_ENV")
            .unwrap_or_else(|_| "local".into())
            .try_into()
            .map_err(SettingsError::Environment)?;
        let mut builder = config::Config::builder();
        for name in ["default", environment.as_str()] {
            if let Some(text) = built_in(name) {
                builder =
                    builder.add_source(config::File::from_str(text, config::FileFormat::Toml));
            }
            if let Some(dir) = config_dir {
                builder = builder.add_source(
                    config::File::from(dir.join(format!("{name}.toml"))).required(false),
                );
            }
        }
        let raw = builder.add_source(environment_variables()).build()?;
        let mut settings: Settings = raw.try_deserialize()?;
        settings.environment = environment;
        settings.resolve_paths();
        settings.validate()?;
        Ok(settings)
    }

    /// The override directory when none is named: `config/` in the working
    /// directory, if there is one.
    pub fn default_config_dir() -> Option<PathBuf> {
        let dir = Settings::default_base_dir().join("config");
        dir.is_dir().then_some(dir)
    }

    /// The working directory: `config/` is looked up there, and a relative
    /// data directory is resolved against it.
    pub fn default_base_dir() -> PathBuf {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }

    /// Makes a relative SQLite path or keyring path relative to the data
    /// directory, and the data directory itself absolute, so that what the
    /// log prints at start-up is where the files are.
    fn resolve_paths(&mut self) {
        if self.paths.data_dir.is_relative() {
            self.paths.data_dir = Settings::default_base_dir().join(&self.paths.data_dir);
        }
        let data_dir = self.paths.data_dir.clone();
        let url = self.database.url();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = Path::new(path);
            if !path.as_os_str().is_empty() && path.is_relative() {
                let resolved = format!("sqlite://{}", data_dir.join(path).display());
                self.database.url = SecretString::from(resolved);
            }
        }
        if let Some(file) = self.crypto.keyring_file.as_mut()
            && !file.as_os_str().is_empty()
            && file.is_relative()
        {
            *file = data_dir.join(&*file);
        }
    }

    /// Where the data directory, SQLite file and keyring are, for the
    /// start-up log. The database URL is shown only for SQLite (a
    /// PostgreSQL URL may hold a password).
    pub fn describe_paths(&self) -> (String, String, String) {
        let database = match self.database.url().strip_prefix("sqlite://") {
            Some(path) => path.to_string(),
            None => "PostgreSQL".to_string(),
        };
        let keyring = match (&self.crypto.keyring_json, &self.crypto.keyring_file) {
            (Some(_), _) => "SANAD__CRYPTO__KEYRING_JSON".to_string(),
            (None, Some(file)) if !file.as_os_str().is_empty() => file.display().to_string(),
            _ => "none".to_string(),
        };
        (self.paths.data_dir.display().to_string(), database, keyring)
    }

    /// Checks every setting; [`Settings::load`] and `Application::build`
    /// call it, so a server never starts on settings that fail it.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |field, message: &str| {
            Err(SettingsError::Invalid {
                field,
                message: message.to_string(),
            })
        };
        if self.database.url().trim().is_empty() {
            return invalid(
                "database.url",
                "is empty; set SANAD__DATABASE__URL to sqlite://PATH or postgres://…",
            );
        }
        if self.database.pool_min_idle > self.database.pool_max_size {
            return invalid(
                "database.pool_min_idle",
                "must not exceed database.pool_max_size",
            );
        }
        if !(7..=730).contains(&self.follow_ups.quiet_household_days) {
            return invalid("follow_ups.quiet_household_days", "must be from 7 to 730");
        }
        if !(1..=365).contains(&self.follow_ups.referral_check_days) {
            return invalid("follow_ups.referral_check_days", "must be from 1 to 365");
        }
        if !(7..=730).contains(&self.assessments.follow_up_days) {
            return invalid("assessments.follow_up_days", "must be from 7 to 730");
        }
        for checked in [self.auth.check(), self.stats.check()] {
            checked.map_err(|(field, message)| SettingsError::Invalid {
                field,
                message: message.to_string(),
            })?;
        }
        self.check_limits()?;
        self.cors_policy()?;
        Ok(())
    }

    /// The CORS policy of `server.cors_allowed_origins`, or why an origin
    /// is unusable.
    pub fn cors_policy(&self) -> Result<crate::web::cors::CorsPolicy, SettingsError> {
        crate::web::cors::CorsPolicy::new(
            &self.server.cors_allowed_origins,
            self.server.cors_max_age_secs,
            self.environment == Environment::Production,
        )
        .map_err(|message| SettingsError::Invalid {
            field: "server.cors_allowed_origins",
            message,
        })
    }

    /// Resource limits: each must be set, and none so large that it stops
    /// protecting anything.
    fn check_limits(&self) -> Result<(), SettingsError> {
        let server = &self.server;
        let within = |field: &'static str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(SettingsError::Invalid {
                    field,
                    message: format!("must be between {min} and {max}"),
                })
            }
        };
        within(
            "server.body_limit_bytes",
            server.body_limit_bytes as u64,
            1024,
            16 * 1024 * 1024,
        )?;
        // serde_json stops at 128 levels on its own.
        within(
            "server.json_max_depth",
            server.json_max_depth as u64,
            2,
            128,
        )?;
        within(
            "server.request_timeout_ms",
            server.request_timeout_ms,
            100,
            300_000,
        )?;
        // 0 would turn actix's head timeout off: slow clients could hold
        // connections for ever.
        within(
            "server.client_request_timeout_ms",
            server.client_request_timeout_ms,
            100,
            60_000,
        )?;
        within(
            "server.body_read_timeout_ms",
            server.body_read_timeout_ms,
            100,
            server.request_timeout_ms,
        )?;
        within("server.keep_alive_secs", server.keep_alive_secs, 0, 300)?;
        within(
            "server.client_disconnect_timeout_ms",
            server.client_disconnect_timeout_ms,
            100,
            60_000,
        )?;
        within(
            "server.max_connections_per_worker",
            server.max_connections_per_worker as u64,
            16,
            100_000,
        )?;
        within("server.backlog", u64::from(server.backlog), 16, 65_535)?;
        within(
            "server.cors_max_age_secs",
            u64::from(server.cors_max_age_secs),
            0,
            86_400,
        )?;
        let database = &self.database;
        within(
            "database.pool_max_size",
            u64::from(database.pool_max_size),
            1,
            1000,
        )?;
        // A request must be able to give up on the pool (503) before the
        // request timeout abandons it.
        within(
            "database.pool_connection_timeout_ms",
            database.pool_connection_timeout_ms,
            50,
            server.request_timeout_ms,
        )?;
        within(
            "database.sqlite_busy_timeout_ms",
            database.sqlite_busy_timeout_ms,
            0,
            server.request_timeout_ms,
        )?;
        let header = &server.client_address_header;
        if actix_web::http::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
            return Err(SettingsError::Invalid {
                field: "server.client_address_header",
                message: "must be a header name".into(),
            });
        }
        let pages = &self.pagination;
        within(
            "pagination.max_page_size",
            u64::from(pages.max_page_size),
            1,
            u64::from(PAGE_SIZE_CEILING),
        )?;
        within(
            "pagination.default_page_size",
            u64::from(pages.default_page_size),
            1,
            u64::from(pages.max_page_size),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("default settings load")
    }

    #[test]
    fn defaults_load_and_serve_on_sqlite() {
        let settings = defaults();
        assert!(settings.database.url().starts_with("sqlite://"));
        assert_eq!(settings.server.port, 8080);
    }

    #[test]
    fn debug_output_hides_the_database_url() {
        let mut settings = defaults();
        settings.database.url = SecretString::from("postgres://sanad:hunter2@db/sanad");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn every_limit_out_of_range_stops_start_up() {
        type Change = fn(&mut Settings);
        let cases: [(&str, Change); 22] = [
            ("auth.password_workers", |s| {
                s.auth.password_workers = 10_000
            }),
            ("auth.password_queue", |s| s.auth.password_queue = 100_000),
            ("auth.max_concurrent_logins_per_address", |s| {
                s.auth.max_concurrent_logins_per_address = 0
            }),
            ("auth.enrolment_code_ttl_hours", |s| {
                s.auth.enrolment_code_ttl_hours = 0
            }),
            ("server.client_address_header", |s| {
                s.server.client_address_header = "not a header".into()
            }),
            ("server.body_limit_bytes", |s| {
                s.server.body_limit_bytes = 10
            }),
            ("server.json_max_depth", |s| s.server.json_max_depth = 0),
            ("server.json_max_depth", |s| s.server.json_max_depth = 1000),
            ("server.request_timeout_ms", |s| {
                s.server.request_timeout_ms = 0
            }),
            ("server.client_request_timeout_ms", |s| {
                s.server.client_request_timeout_ms = 0
            }),
            ("server.body_read_timeout_ms", |s| {
                s.server.body_read_timeout_ms = s.server.request_timeout_ms + 1
            }),
            ("server.keep_alive_secs", |s| {
                s.server.keep_alive_secs = 3600
            }),
            ("server.client_disconnect_timeout_ms", |s| {
                s.server.client_disconnect_timeout_ms = 0
            }),
            ("server.max_connections_per_worker", |s| {
                s.server.max_connections_per_worker = 0
            }),
            ("server.backlog", |s| s.server.backlog = 0),
            ("server.cors_max_age_secs", |s| {
                s.server.cors_max_age_secs = 999_999
            }),
            ("server.cors_allowed_origins", |s| {
                s.server.cors_allowed_origins = vec!["*".into()]
            }),
            ("database.pool_max_size", |s| {
                s.database.pool_max_size = 0;
                s.database.pool_min_idle = 0;
            }),
            ("database.pool_connection_timeout_ms", |s| {
                s.database.pool_connection_timeout_ms = s.server.request_timeout_ms + 1
            }),
            ("database.sqlite_busy_timeout_ms", |s| {
                s.database.sqlite_busy_timeout_ms = s.server.request_timeout_ms + 1
            }),
            ("pagination.max_page_size", |s| {
                s.pagination.max_page_size = 5000
            }),
            ("pagination.default_page_size", |s| {
                s.pagination.default_page_size = s.pagination.max_page_size + 1
            }),
        ];
        for (field, change) in cases {
            let mut settings = defaults();
            change(&mut settings);
            match settings.validate() {
                Err(SettingsError::Invalid { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(defaults().validate().is_ok());
    }

    #[test]
    fn page_sizes_default_and_clamp() {
        let pages = PaginationSettings {
            default_page_size: 50,
            max_page_size: 100,
        };
        assert_eq!(pages.page_size(None), 50);
        assert_eq!(pages.page_size(Some(0)), 1);
        assert_eq!(pages.page_size(Some(7)), 7);
        assert_eq!(pages.page_size(Some(u32::MAX)), 100);
    }

    #[test]
    fn cors_origins_come_from_one_variable_and_nothing_else_is_split() {
        let vars = [
            (
                "SANAD__SERVER__CORS_ALLOWED_ORIGINS",
                "https://a.example,https://b.example",
            ),
            ("SANAD__CRYPTO__KEYRING_JSON", r#"{"a": 1, "b": 2}"#),
        ];
        let raw = config::Config::builder()
            .add_source(
                environment_variables().source(Some(
                    vars.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )),
            )
            .build()
            .unwrap();
        let origins: Vec<String> = raw.get("server.cors_allowed_origins").unwrap();
        assert_eq!(origins, ["https://a.example", "https://b.example"]);
        let keyring: String = raw.get("crypto.keyring_json").unwrap();
        assert_eq!(keyring, r#"{"a": 1, "b": 2}"#);
    }

    #[test]
    fn unknown_environment_is_refused() {
        let err = Environment::try_from("staging".to_string()).unwrap_err();
        assert!(err.contains("staging"));
    }
}
