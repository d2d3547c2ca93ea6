//! The database a test runs against: a fresh SQLite file, or a fresh
//! PostgreSQL database when `TEST_DATABASE_URL` is set; and reading all of
//! it back as bytes, to look for plaintext.

use diesel::RunQueryDsl;
use sanad::db::pool::establish_postgres;
use uuid::Uuid;

/// The database a test runs against; dropped (PostgreSQL) or deleted
/// (SQLite) when the test ends.
pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    /// Another test's database, used by a second server (a "restarted"
    /// node); the owner creates and drops it.
    Shared { url: String },
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!("sanad_test_{}", Uuid::new_v4().simple());
                let mut admin = establish_postgres(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create the test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDatabase::Postgres {
                    admin_url,
                    name,
                    url: url.to_string(),
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}/sanad.db", dir.path().display());
                TestDatabase::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. }
            | TestDatabase::Postgres { url, .. }
            | TestDatabase::Shared { url } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }

    /// For PostgreSQL: refuse (or allow again) new connections to the test
    /// database and end the open ones — the database "goes down" for this
    /// test only.
    pub fn set_reachable(&self, reachable: bool) {
        let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        else {
            panic!("only a PostgreSQL test database can be taken down");
        };
        let mut admin = establish_postgres(admin_url).expect("admin connection");
        diesel::sql_query(format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {reachable}"
        ))
        .execute(&mut admin)
        .expect("alter database");
        if !reachable {
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(&mut admin)
            .expect("terminate backends");
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut admin) = establish_postgres(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Everything the database holds, as bytes: the SQLite file and its WAL, or
/// a `pg_dump` of the data.
pub fn database_bytes(db: &TestDatabase) -> Vec<u8> {
    match db {
        TestDatabase::Sqlite { url, .. } => {
            let path = url.trim_start_matches("sqlite://");
            let mut bytes = std::fs::read(path).expect("database file");
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        TestDatabase::Postgres { url, .. } => {
            let output = std::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", url])
                .output()
                .expect("pg_dump runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        }
        TestDatabase::Shared { .. } => unreachable!("only the owner of a database reads it all"),
    }
}

/// Whether `needle` is in `haystack`, as bytes or as the hex that
/// `pg_dump` writes `bytea` values in (a plaintext stored in an encrypted
/// column would show up that way).
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    [needle.as_bytes(), hex.as_bytes()]
        .iter()
        .any(|n| haystack.windows(n.len()).any(|w| w == *n))
}

/// Whether these bytes are in `haystack`, raw or as the hex `pg_dump`
/// writes `bytea` values in.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    [needle, hex.as_bytes()]
        .iter()
        .any(|n| haystack.windows(n.len()).any(|w| w == *n))
}
