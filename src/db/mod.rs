//! The database layer: one connection type over PostgreSQL and SQLite, an r2d2
//! pool that picks the backend from the URL scheme, embedded migrations for
//! both backends, and [`Database::run`], the one way handlers reach the
//! database without blocking the async executor.

pub mod column;
pub mod erasure;
pub mod migrations;
pub mod pool;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
pub use pool::{Backend, ConnectionManager, DbError};

use crate::crypto::AuditKeys;
use crate::crypto::audit_keys;
use crate::error::ApiError;

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A transaction that will write. On SQLite its first statement takes the
/// write lock, so a competing writer waits (`busy_timeout`) instead of failing
/// with "database is locked" when a read snapshot would have to be upgraded;
/// and writers of this process first queue on [`SQLITE_WRITERS`]. On
/// PostgreSQL it is a plain transaction.
pub fn write_transaction<T, F>(conn: &mut AnyConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    use diesel::Connection;
    let _turn = match conn {
        AnyConnection::Sqlite(_) => SqliteWriterTurn::take(),
        AnyConnection::Postgresql(_) => None,
    };
    conn.transaction(|conn| {
        if let AnyConnection::Sqlite(lite) = conn {
            // A write that changes nothing still begins SQLite's write
            // transaction; being the first statement, it waits for the lock.
            lite.batch_execute("UPDATE write_lock SET id = id WHERE 0")?;
        }
        work(conn)
    })
}

/// A short write transaction of its own for a counter's update (a case
/// number), so that the counter's row is held only for that update and its
/// commit, not for the whole creation that uses the number.
///
/// On PostgreSQL it commits without waiting for the disk
/// (`synchronous_commit = off`): whatever uses the number commits later
/// and waits for the disk, which writes the log in order, so a creation
/// that survives a crash has its counter's update too; one that does not
/// only leaves the number to be given again.
pub fn counter_transaction<T, F>(conn: &mut AnyConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    write_transaction(conn, |conn| {
        if let AnyConnection::Postgresql(pg) = conn {
            pg.batch_execute("SET LOCAL synchronous_commit = off")?;
        }
        work(conn)
    })
}

/// Locks the row `id` of `table` until the transaction ends, so that what
/// the caller read and decided on cannot change under it. PostgreSQL locks
/// the row; on SQLite a write transaction already holds the database's only
/// write lock, so there is nothing more to take. `table` is one of this
/// crate's own names, never input.
pub fn lock_row(
    conn: &mut AnyConnection,
    table: &'static str,
    id: uuid::Uuid,
) -> Result<(), ApiError> {
    lock(
        conn,
        &format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"),
        id,
    )
}

/// [`lock_row`] for a row that belongs to a case (a referral, a transfer),
/// its case first: the order every writer of both takes, so that two of
/// them never wait for each other in a circle.
pub fn lock_row_and_case(
    conn: &mut AnyConnection,
    table: &'static str,
    id: uuid::Uuid,
) -> Result<(), ApiError> {
    let case = format!(
        "SELECT 1 FROM cases WHERE id = (SELECT case_id FROM {table} WHERE id = $1) FOR UPDATE"
    );
    lock(conn, &case, id)?;
    lock_row(conn, table, id)
}

/// Locks every case of a household until the transaction ends (a household
/// transfer moves them all; PostgreSQL only, as [`lock_row`]).
pub fn lock_household_members(
    conn: &mut AnyConnection,
    household: uuid::Uuid,
) -> Result<(), ApiError> {
    lock(
        conn,
        "SELECT 1 FROM cases WHERE household_id = $1 ORDER BY id FOR UPDATE",
        household,
    )
}

fn lock(conn: &mut AnyConnection, sql: &str, id: uuid::Uuid) -> Result<(), ApiError> {
    if let AnyConnection::Postgresql(pg) = conn {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(id.hyphenated().to_string())
            .execute(pg)?;
    }
    Ok(())
}

/// SQLite lets one connection write at a time. Writers in this process
/// queue here, and each is woken the moment the one before commits, rather
/// than in SQLite's busy handler, which polls with sleeps of up to 100 ms
/// and gave writes (and reads, which write their audit event) a long tail.
/// Another process (a command-line run) still meets `busy_timeout`. One
/// lock for every SQLite database the process has open: a server has one.
static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this thread holds [`SQLITE_WRITERS`]: a write transaction
    /// nested in another must not wait for itself.
    static HOLDS_SQLITE_WRITERS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

struct SqliteWriterTurn(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl SqliteWriterTurn {
    fn take() -> Option<SqliteWriterTurn> {
        if HOLDS_SQLITE_WRITERS.get() {
            return None;
        }
        // A writer that panicked left no transaction open (diesel rolled it
        // back), so a poisoned lock is still a good lock.
        let guard = SQLITE_WRITERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        HOLDS_SQLITE_WRITERS.set(true);
        Some(SqliteWriterTurn(guard))
    }
}

impl Drop for SqliteWriterTurn {
    fn drop(&mut self) {
        HOLDS_SQLITE_WRITERS.set(false);
    }
}

/// Bind parameters one multi-row INSERT may carry: under SQLite's 32 766
/// and PostgreSQL's 65 535.
pub const MAX_BIND_PARAMS: usize = 30_000;

/// Inserts `rows` (a slice of references to `Insertable` rows of `table`,
/// each with `columns` columns) as multi-row INSERTs, in as few statements as
/// the bind-parameter limit allows. diesel's MultiConnection cannot insert in
/// batches, so this matches on the backend and uses the concrete connection.
/// Expands to `?`, so the caller returns a `Result` whose error converts from
/// `diesel::result::Error`.
#[macro_export]
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let per_statement = ($crate::db::MAX_BIND_PARAMS / $columns).max(1);
        for chunk in $rows.chunks(per_statement) {
            let chunk = chunk.to_vec();
            match &mut *$conn {
                $crate::db::AnyConnection::Postgresql(c) => {
                    // COPY: one round trip of binary rows, no SQL to parse.
                    diesel::copy_from($table)
                        .from_insertable(chunk)
                        .execute(c)?
                }
                $crate::db::AnyConnection::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
    }};
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// The pool plus what handlers need to use it well: and the audit keys,
/// which [`Database::run`] puts in scope for the work it runs, so that
/// every event appended there is sealed (`crypto::audit_keys`).
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    audit_keys: Option<Arc<AuditKeys>>,
}

impl Database {
    /// Connects once directly (so a wrong URL or an unreachable server is
    /// reported at once with the real error), runs migrations when asked, and
    /// builds the pool.
    pub fn connect(
        settings: &crate::settings::DatabaseSettings,
        run_migrations: bool,
    ) -> Result<Database, DbError> {
        let manager = ConnectionManager::new(settings.url(), settings.sqlite_busy_timeout_ms)?;
        let backend = manager.backend();
        let mut first = manager.establish()?;
        if run_migrations {
            migrations::run(&mut first)?;
        }
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_max_size)
            .min_idle(Some(settings.pool_min_idle))
            .connection_timeout(settings.pool_connection_timeout())
            .test_on_check_out(true)
            .error_handler(Box::new(pool::LogErrors))
            // Connections are checked out briefly; recycle idle ones so a
            // restarted server does not leave stale sockets in the pool long.
            .idle_timeout(Some(Duration::from_secs(300)))
            .build_unchecked(manager);
        Ok(Database {
            pool,
            backend,
            audit_keys: None,
        })
    }

    /// The audit keys every [`Database::run`] puts in scope.
    pub fn with_audit_keys(mut self, keys: Arc<AuditKeys>) -> Database {
        self.audit_keys = Some(keys);
        self
    }

    pub fn audit_keys(&self) -> Option<&Arc<AuditKeys>> {
        self.audit_keys.as_ref()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `work` on a pooled connection in the blocking thread pool, inside
    /// the caller's tracing span. No pooled connection within the pool's
    /// timeout answers 503; a panic inside `work` answers 500. An internal
    /// error on a connection that no longer answers is the database going
    /// away under the request (a message diesel does not classify, such as
    /// a terminated backend): 503, like any other unreachable database.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let keys = self.audit_keys.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(ApiError::from)?;
            let done = match &keys {
                Some(keys) => audit_keys::scope(keys, || work(&mut conn)),
                None => work(&mut conn),
            };
            match done {
                Err(ApiError::Internal(cause)) if conn.batch_execute("SELECT 1").is_err() => Err(
                    ApiError::Unavailable(format!("the database connection failed: {cause:#}")),
                ),
                result => result,
            }
        })
        .await
        .map_err(|cause| ApiError::internal(anyhow::anyhow!("blocking task failed: {cause}")))?
    }

    /// Whether the database answers a trivial query right now, waiting at most
    /// `timeout` for a connection.
    pub async fn ping(&self, timeout: Duration) -> Result<(), ApiError> {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get_timeout(timeout).map_err(ApiError::from)?;
            conn.batch_execute("SELECT 1").map_err(ApiError::from)
        })
        .await
        .map_err(|cause| ApiError::internal(anyhow::anyhow!("blocking task failed: {cause}")))?
    }
}
