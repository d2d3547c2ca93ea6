//! An r2d2 manager that picks the backend from the URL scheme.
//!
//! diesel's `MultiConnection` derive tries each backend in turn and throws the
//! real error away (an unreachable PostgreSQL shows up as "Invalid connection
//! url" after the pool's timeout). Choosing by scheme keeps the real error.

use std::fmt;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionResult, PgConnection, SqliteConnection};

use super::AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Opens a PostgreSQL connection, with OpenSSL (libpq's TLS) made ready
/// first. Every PostgreSQL connection the process opens goes through here.
///
/// OpenSSL, unless told otherwise the first time it is initialised,
/// registers an exit handler that frees its global state. A process that
/// exits while another thread still uses a TLS connection (the pool's
/// threads, the audit sequencer, a test's server) then frees that state
/// under it and aborts ("double free or corruption", or a segmentation
/// fault): a CI run died that way after every test had passed, and a
/// program whose threads connected while it exited aborted in 8 of 60 runs
/// before this call and in none of 100 after it. `openssl_sys::init`
/// initialises once per process without the handler
/// (`OPENSSL_INIT_NO_ATEXIT`); the operating system takes the memory back.
pub fn establish_postgres(url: &str) -> ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

/// Why the database could not be reached or prepared. The message never holds
/// the URL (it may carry a password).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme; use sqlite://PATH or postgres://user@host/database")]
    UnsupportedScheme,
    #[error("could not create the directory for the SQLite file {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not connect to {backend}: {source}")]
    Connect {
        backend: &'static str,
        source: diesel::ConnectionError,
    },
    #[error("could not prepare the SQLite connection: {0}")]
    Pragma(diesel::result::Error),
    #[error("the connection is no longer usable: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not run database migrations: {0}")]
    Migration(String),
}

#[derive(Clone)]
enum Target {
    Postgres(String),
    Sqlite(PathBuf),
}

/// Makes connections for the pool.
#[derive(Clone)]
pub struct ConnectionManager {
    target: Target,
    sqlite_busy_timeout_ms: u64,
}

impl fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionManager")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl ConnectionManager {
    pub fn new(url: &str, sqlite_busy_timeout_ms: u64) -> Result<ConnectionManager, DbError> {
        let target = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Target::Postgres(url.to_string())
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::UnsupportedScheme);
            }
            Target::Sqlite(PathBuf::from(path))
        } else {
            return Err(DbError::UnsupportedScheme);
        };
        Ok(ConnectionManager {
            target,
            sqlite_busy_timeout_ms,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.target {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Opens one connection, set up as every connection of ours must be.
    pub fn establish(&self) -> Result<AnyConnection, DbError> {
        match &self.target {
            Target::Postgres(url) => establish_postgres(url)
                .map(AnyConnection::Postgresql)
                .map_err(|source| DbError::Connect {
                    backend: "PostgreSQL",
                    source,
                }),
            Target::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(|source| {
                        DbError::Connect {
                            backend: "SQLite",
                            source,
                        }
                    })?;
                // busy_timeout first: switching to WAL itself needs the lock.
                // secure_delete: what a write removes or replaces (an erased
                // person's wrapped data key) is overwritten with zeros, not
                // left in a free page (docs/security.md, "Erasure").
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA secure_delete = ON;",
                    self.sqlite_busy_timeout_ms
                ))
                .map_err(DbError::Pragma)?;
                // The planner's statistics, refreshed for tables that grew
                // since they were last taken (approximate, a few ms). With
                // none, SQLite guessed that a city held few cases and
                // walked a whole city's to find one national ID
                // (docs/performance.md). Best effort: a busy database
                // leaves them for the next connection.
                if let Err(err) = conn.batch_execute("PRAGMA optimize = 0x10002;") {
                    tracing::debug!(error = %err, "PRAGMA optimize skipped");
                }
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    /// A connection left inside a transaction, or whose transaction
    /// manager is in error (its server went away mid-transaction), is not
    /// given back to the pool.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Sends the pool's connection errors to our structured log instead of the
/// `log` crate's default.
#[derive(Debug)]
pub struct LogErrors;

impl r2d2::HandleError<DbError> for LogErrors {
    fn handle_error(&self, error: DbError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend() {
        let pg = ConnectionManager::new("postgres://u@h/db", 1).unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        let pg = ConnectionManager::new("postgresql://u@h/db", 1).unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        let lite = ConnectionManager::new("sqlite://data/x.db", 1).unwrap();
        assert_eq!(lite.backend(), Backend::Sqlite);
    }

    #[test]
    fn other_schemes_are_refused_without_echoing_the_url() {
        for url in ["mysql://root:secret@h/db", "secret.db", "sqlite://"] {
            let err = ConnectionManager::new(url, 1).unwrap_err();
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn an_unreachable_postgres_reports_the_real_error_at_once() {
        let manager = ConnectionManager::new("postgres://nobody@127.0.0.1:1/none", 1).unwrap();
        let started = std::time::Instant::now();
        let err = manager
            .establish()
            .err()
            .expect("nothing listens on port 1");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let text = err.to_string();
        assert!(text.contains("PostgreSQL"), "{text}");
        assert!(!text.contains("Invalid connection url"), "{text}");
    }

    /// A process that exits while its threads use TLS connections to
    /// PostgreSQL (a server stopping under load, a test binary finishing)
    /// exits cleanly. Each try runs this test binary again as a child that
    /// connects from six threads and exits while they do; before
    /// `establish_postgres` initialised OpenSSL without its exit handler,
    /// about one child in eight aborted, so twenty tries miss a return of
    /// that bug about one time in twenty. PostgreSQL only
    /// (`TEST_DATABASE_URL`), as the server there offers TLS.
    #[test]
    fn exiting_while_threads_use_postgres_is_clean() {
        const CHILD: &str = "SANAD_TEST_EXIT_CHILD";
        let url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => return,
        };
        if std::env::var_os(CHILD).is_some() {
            for _ in 0..6 {
                let url = url.clone();
                std::thread::spawn(move || {
                    loop {
                        if let Ok(mut conn) = establish_postgres(&url) {
                            let _ = conn.batch_execute("SELECT 1");
                        }
                    }
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(150));
            std::process::exit(0);
        }
        let name = module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, path)| path);
        let name = format!("{name}::exiting_while_threads_use_postgres_is_clean");
        let exe = std::env::current_exe().unwrap();
        for attempt in 1..=20 {
            let child = std::process::Command::new(&exe)
                .args(["--exact", &name, "--test-threads=1"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            assert!(
                child.status.success(),
                "try {attempt}: {:?}\n{}",
                child.status,
                String::from_utf8_lossy(&child.stderr)
            );
        }
    }

    /// A connection to a new SQLite file in a directory of its own (kept
    /// while the directory lives), as every connection is opened.
    pub fn scratch_sqlite() -> (tempfile::TempDir, super::super::AnyConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let conn = ConnectionManager::new(&url, 1000)
            .unwrap()
            .establish()
            .unwrap();
        (dir, conn)
    }

    #[test]
    fn sqlite_connections_use_wal_foreign_keys_and_secure_delete() {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Text};

        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Flag {
            #[diesel(sql_type = BigInt)]
            foreign_keys: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Overwrite {
            #[diesel(sql_type = BigInt)]
            secure_delete: i64,
        }
        let (_dir, mut conn) = scratch_sqlite();
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        let fk: Flag = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(fk.foreign_keys, 1);
        // What a write removes is overwritten: erasure relies on it.
        let overwrite: Overwrite = diesel::sql_query("PRAGMA secure_delete")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(overwrite.secure_delete, 1);
    }
}
