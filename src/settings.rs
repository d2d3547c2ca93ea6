//! Typed settings: `config/default.toml`, then `config/$SANAD_ENV.toml`, then
//! environment variables `SANAD__SECTION__KEY`. Secrets are wrapped so that a
//! `Debug` print of the settings never shows them.

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
}

/// Aggregates: cells from 1 to k−1 are never published.
#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    pub k: u64,
}

fn default_environment() -> Environment {
    Environment::Local
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub body_limit_bytes: usize,
    pub client_request_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub shutdown_timeout_secs: u64,
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
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

/// Tokens, passwords and login throttling.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// `iss` of every access token, checked on every request.
    pub issuer: String,
    /// `aud` of every access token, checked on every request.
    pub audience: String,
    /// Lifetime of an access token; at most 15 minutes.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token.
    pub refresh_token_ttl_secs: u64,
    pub password_min_chars: usize,
    /// Failed logins allowed per username, and per client address, within
    /// the window before further attempts answer 429.
    pub max_failures_per_username: u32,
    pub max_failures_per_address: u32,
    pub failure_window_secs: u64,
}

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

impl Settings {
    /// Reads settings from `<base_dir>/config`, `SANAD_ENV` and `SANAD__…` variables.
    pub fn load(base_dir: &Path) -> Result<Settings, SettingsError> {
        let environment: Environment = std::env::var("SANAD_ENV")
            .unwrap_or_else(|_| "local".into())
            .try_into()
            .map_err(SettingsError::Environment)?;
        let config_dir = base_dir.join("config");
        let raw = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")).required(true))
            .add_source(
                config::File::from(config_dir.join(format!("{}.toml", environment.as_str())))
                    .required(false),
            )
            .add_source(
                config::Environment::with_prefix("SANAD")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?;
        let mut settings: Settings = raw.try_deserialize()?;
        settings.environment = environment;
        settings.check()?;
        Ok(settings)
    }

    /// The directory the binary runs from: `config/` is looked up there.
    pub fn default_base_dir() -> PathBuf {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    }

    fn check(&self) -> Result<(), SettingsError> {
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
        if self.database.pool_max_size == 0 {
            return invalid("database.pool_max_size", "must be at least 1");
        }
        if self.database.pool_min_idle > self.database.pool_max_size {
            return invalid(
                "database.pool_min_idle",
                "must not exceed database.pool_max_size",
            );
        }
        if self.server.body_limit_bytes < 1024 {
            return invalid("server.body_limit_bytes", "must be at least 1024");
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.access_token_ttl_secs > 900 {
            return invalid(
                "auth.access_token_ttl_secs",
                "must be between 1 and 900 (15 minutes)",
            );
        }
        if self.auth.password_min_chars < 12 {
            return invalid("auth.password_min_chars", "must be at least 12");
        }
        if self.stats.k < 2 {
            return invalid("stats.k", "must be at least 2");
        }
        if self.server.request_timeout_ms == 0 {
            return invalid("server.request_timeout_ms", "must be above 0");
        }
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
    fn unknown_environment_is_refused() {
        let err = Environment::try_from("staging".to_string()).unwrap_err();
        assert!(err.contains("staging"));
    }
}
