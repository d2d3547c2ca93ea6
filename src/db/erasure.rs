//! Finishing an erasure on disk. Erasing a person deletes or overwrites
//! the row that held their wrapped data key, in a transaction; what the
//! database engine keeps of the old bytes after that is its own business:
//!
//! - **SQLite** runs with `secure_delete` (every connection, `pool`), so the
//!   old row is overwritten with zeros in the page that held it; the page
//!   as it was before still sits in the write-ahead log until a checkpoint
//!   copies the new pages over and the WAL is truncated. [`checkpoint`] does
//!   that, right after every erasure commits.
//! - **PostgreSQL** keeps the old row version in the table's file until a
//!   vacuum reclaims it (and a plain VACUUM only marks the space free), and
//!   the WAL keeps it until its segments are recycled. [`vacuum`] rewrites
//!   `data_keys` (`VACUUM FULL`, which writes a new file of live rows and
//!   deletes the old one) and forces a CHECKPOINT; docs/operations.md says
//!   what the WAL, replicas and backups need besides. A rewrite still copies
//!   a row version that a transaction older than the erasure could see, so
//!   it first waits for every transaction in the cluster that began before
//!   it was called.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, RunQueryDsl};

use super::AnyConnection;
use crate::error::ApiError;

#[derive(diesel::QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

/// SQLite: copies every page in the WAL into the database file and
/// truncates the WAL to nothing (`PRAGMA wal_checkpoint(TRUNCATE)`, which
/// waits for readers up to `busy_timeout`). Returns whether it completed.
/// PostgreSQL: nothing to do here (see [`vacuum`]); returns true. Call it
/// outside any transaction.
pub fn checkpoint(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    let AnyConnection::Sqlite(lite) = conn else {
        return Ok(true);
    };
    let done: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(lite)?;
    Ok(done.busy == 0)
}

/// What [`vacuum`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacuumed {
    pub steps: Vec<&'static str>,
}

/// `sanad vacuum`: on PostgreSQL, once no transaction older than the call
/// is left in the cluster (waiting at most `wait`), `VACUUM FULL data_keys`
/// (an exclusive lock on that table for as long as the rewrite takes; reads
/// and writes of people wait) then `CHECKPOINT` (superuser or
/// `pg_checkpoint`; seeing other roles' transactions needs
/// `pg_read_all_stats`); on SQLite [`checkpoint`]. Run it outside any
/// transaction.
pub fn vacuum(conn: &mut AnyConnection, wait: Duration) -> Result<Vacuumed, ApiError> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            wait_for_older_transactions(pg, wait)?;
            pg.batch_execute("VACUUM FULL data_keys")?;
            pg.batch_execute("CHECKPOINT")?;
            Ok(Vacuumed {
                steps: vec!["VACUUM FULL data_keys", "CHECKPOINT"],
            })
        }
        AnyConnection::Sqlite(_) => {
            if !checkpoint(conn)? {
                return Err(ApiError::Unavailable(
                    "the WAL checkpoint did not complete: a reader held it; run again".into(),
                ));
            }
            Ok(Vacuumed {
                steps: vec!["PRAGMA wal_checkpoint(TRUNCATE)"],
            })
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Micros {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    at: i64,
}

/// Waits until no other session is in a transaction that began before now.
/// `VACUUM FULL` copies every row version that some running transaction
/// might still see, and its own snapshot reaches back to the oldest
/// transaction running anywhere in the cluster, in any database: a
/// statistical release reading its snapshot, a `pg_dump`, a forgotten
/// `idle in transaction`, another application's long query.
fn wait_for_older_transactions(pg: &mut PgConnection, wait: Duration) -> Result<(), ApiError> {
    let now: Micros =
        diesel::sql_query("SELECT (extract(epoch FROM now()) * 1000000)::bigint AS at")
            .get_result(pg)?;
    let deadline = Instant::now() + wait;
    loop {
        let older: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' \
             AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL) \
             AND xact_start < to_timestamp($1::double precision / 1000000)",
        )
        .bind::<diesel::sql_types::BigInt, _>(now.at)
        .get_result(pg)?;
        if older.n == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ApiError::Unavailable(format!(
                "{} transaction(s) older than the vacuum are still open in the cluster \
                 (pg_stat_activity); a rewrite now would keep the row versions they can see. \
                 End them, or run again later",
                older.n
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
