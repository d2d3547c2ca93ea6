//! Embedded migrations, one set per backend, kept in lockstep: the same
//! version names exist under `migrations/postgres` and `migrations/sqlite`.

use diesel::backend::Backend;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{AnyConnection, DbError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies every pending migration; returns how many ran.
pub fn run(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let applied = match conn {
        AnyConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES).map(|v| v.len()),
        AnyConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE).map(|v| v.len()),
    };
    applied.map_err(|cause| DbError::Migration(cause.to_string()))
}

/// Applies the pending migrations older than `version` (its digits, such
/// as `20261202000009`): the database as an older release left it, for
/// testing what a migration and the code that follows it do to its data.
pub fn run_before(conn: &mut AnyConnection, version: &str) -> Result<usize, DbError> {
    let applied = match conn {
        AnyConnection::Postgresql(pg) => run_older(pg, POSTGRES, version),
        AnyConnection::Sqlite(lite) => run_older(lite, SQLITE, version),
    };
    applied.map_err(|cause| DbError::Migration(cause.to_string()))
}

fn run_older<DB: Backend, C: MigrationHarness<DB>>(
    conn: &mut C,
    source: impl MigrationSource<DB>,
    version: &str,
) -> diesel::migration::Result<usize> {
    let mut applied = 0;
    for migration in conn.pending_migrations(source)? {
        if migration.name().version().to_string().as_str() < version {
            conn.run_migration(&*migration)?;
            applied += 1;
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn versions(dir: &str) -> BTreeSet<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let pg = versions("migrations/postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, versions("migrations/sqlite"));
    }
}
