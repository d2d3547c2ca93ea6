//! Login throttling that cannot be raced: every attempt takes its slot in
//! the database *before* its password (or code) is checked, per
//! lower-cased username (whether or not it exists, so the answer gives
//! nothing away) and per client address, in a fixed window. Attempts in
//! flight therefore count, and every API node counts in the same rows.
//!
//! - [`LoginThrottle::reserve`]: one upsert-and-increment per key. Past a
//!   budget the attempt is refused (429 with `Retry-After`) and its
//!   increments are rolled back, so a refused attempt costs nothing.
//! - [`LoginThrottle::succeeded`]: the username's count is cleared and the
//!   address's slot given back: only failures (and attempts still in
//!   flight) hold a budget.
//! - A failure changes nothing: its slot stays taken until the window ends.
//!
//! Keys are keyed hashes ([`Tagger`]), never the username or address.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::crypto::Tagger;
use crate::db::AnyConnection;
use crate::db::schema::login_attempts;
use crate::error::ApiError;
use crate::settings::AuthSettings;

pub struct LoginThrottle {
    tagger: Tagger,
    per_username: i32,
    per_address: i32,
    window: Duration,
}

/// The rows one attempt counts in.
#[derive(Clone)]
pub struct AttemptKeys {
    username: String,
    address: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
}

// One statement per backend (diesel's MultiConnection has no upsert): a new
// key starts a window, an expired window starts again, a live one counts one
// more. Concurrent attempts on one key wait for each other (PostgreSQL's row
// lock, SQLite's write lock), so no increment is lost. Binds: key, now, the
// oldest window start still live.
const BUMP_POSTGRES: &str = "INSERT INTO login_attempts (key, window_start, attempts) \
     VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET \
     attempts = CASE WHEN login_attempts.window_start <= $3 THEN 1 \
                ELSE login_attempts.attempts + 1 END, \
     window_start = CASE WHEN login_attempts.window_start <= $3 THEN $2 \
                    ELSE login_attempts.window_start END \
     RETURNING attempts, window_start";
const BUMP_SQLITE: &str = "INSERT INTO login_attempts (key, window_start, attempts) \
     VALUES (?1, ?2, 1) ON CONFLICT (key) DO UPDATE SET \
     attempts = CASE WHEN login_attempts.window_start <= ?3 THEN 1 \
                ELSE login_attempts.attempts + 1 END, \
     window_start = CASE WHEN login_attempts.window_start <= ?3 THEN ?2 \
                    ELSE login_attempts.window_start END \
     RETURNING attempts, window_start";

impl LoginThrottle {
    pub fn new(settings: &AuthSettings, tagger: Tagger) -> LoginThrottle {
        let clamp = |n: u32| i32::try_from(n.max(1)).unwrap_or(i32::MAX);
        LoginThrottle {
            tagger,
            per_username: clamp(settings.max_failures_per_username),
            per_address: clamp(settings.max_failures_per_address),
            window: Duration::seconds(
                i64::try_from(settings.failure_window_secs.max(1)).unwrap_or(i64::MAX / 2_000),
            ),
        }
    }

    /// The keys of an attempt on `username` from `address`.
    pub fn keys(&self, username: &str, address: Option<IpAddr>) -> AttemptKeys {
        let name = username.trim().to_lowercase();
        AttemptKeys {
            username: format!("u:{}", self.tagger.tag(name.as_bytes())),
            address: address.map(|ip| format!("a:{}", self.tagger.tag(ip.to_string().as_bytes()))),
        }
    }

    /// Takes the attempt's slots; call inside a write transaction, which
    /// must commit before the check so that other attempts see them. A
    /// spent budget is `TooManyRequests` with the seconds until its window
    /// ends, and nothing is counted.
    pub fn reserve(
        &self,
        conn: &mut AnyConnection,
        keys: &AttemptKeys,
        now: NaiveDateTime,
    ) -> Result<(), ApiError> {
        let cutoff = now - self.window;
        if sweep_now() {
            sweep(conn, cutoff)?;
        }
        // A savepoint: a refusal rolls back the increments made before it.
        conn.transaction(|conn| {
            let mut budgets = vec![(&keys.username, self.per_username)];
            budgets.extend(keys.address.as_ref().map(|a| (a, self.per_address)));
            for (key, limit) in budgets {
                let count = bump(conn, key, now, cutoff)?;
                if count.attempts > limit {
                    let ends = count.window_start + self.window;
                    let secs = (ends - now).num_seconds().max(1);
                    return Err(ApiError::TooManyRequests {
                        retry_after_secs: u64::try_from(secs).unwrap_or(1),
                    });
                }
            }
            Ok(())
        })
    }

    /// The attempt succeeded: the username's count is cleared and the
    /// address's slot given back.
    pub fn succeeded(&self, conn: &mut AnyConnection, keys: &AttemptKeys) -> Result<(), ApiError> {
        diesel::delete(login_attempts::table.find(&keys.username)).execute(conn)?;
        if let Some(address) = &keys.address {
            give_back(conn, address)?;
        }
        Ok(())
    }
}

fn bump(
    conn: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
    cutoff: NaiveDateTime,
) -> Result<Count, ApiError> {
    Ok(match conn {
        AnyConnection::Postgresql(pg) => diesel::sql_query(BUMP_POSTGRES)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(cutoff)
            .get_result(pg)?,
        AnyConnection::Sqlite(lite) => diesel::sql_query(BUMP_SQLITE)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(cutoff)
            .get_result(lite)?,
    })
}

/// Deletes the windows that ended. On PostgreSQL the rows another attempt
/// holds are skipped (they are being counted again): taking them in the
/// order the scan meets them could wait on an attempt that waits on us.
fn sweep(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> Result<(), ApiError> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query(
                "DELETE FROM login_attempts WHERE key IN (SELECT key FROM login_attempts \
                 WHERE window_start <= $1 FOR UPDATE SKIP LOCKED)",
            )
            .bind::<Timestamp, _>(cutoff)
            .execute(pg)?;
        }
        AnyConnection::Sqlite(lite) => {
            diesel::delete(login_attempts::table.filter(login_attempts::window_start.le(cutoff)))
                .execute(lite)?;
        }
    }
    Ok(())
}

fn give_back(conn: &mut AnyConnection, key: &str) -> Result<(), ApiError> {
    diesel::update(
        login_attempts::table
            .find(key)
            .filter(login_attempts::attempts.gt(0)),
    )
    .set(login_attempts::attempts.eq(login_attempts::attempts - 1))
    .execute(conn)?;
    Ok(())
}

/// Whether this attempt also deletes the expired windows: one in sixteen,
/// so the table stays small without every attempt paying for it.
fn sweep_now() -> bool {
    uuid::Uuid::new_v4().as_bytes()[0] < 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keyring;
    use crate::db::{migrations, write_transaction};

    fn throttle() -> LoginThrottle {
        let mut settings = crate::auth::jwt::tests::settings();
        settings.max_failures_per_username = 3;
        settings.max_failures_per_address = 5;
        settings.failure_window_secs = 60;
        let tagger = Tagger::new(&Keyring::generate().unwrap(), "login").unwrap();
        LoginThrottle::new(&settings, tagger)
    }

    fn database() -> (tempfile::TempDir, AnyConnection) {
        let (dir, mut conn) = crate::db::pool::tests::scratch_sqlite();
        migrations::run(&mut conn).unwrap();
        (dir, conn)
    }

    fn attempt(t: &LoginThrottle, conn: &mut AnyConnection, keys: &AttemptKeys, at: i64) -> bool {
        let now = chrono::DateTime::from_timestamp(1_800_000_000 + at, 0)
            .unwrap()
            .naive_utc();
        match write_transaction(conn, |conn| t.reserve(conn, keys, now)) {
            Ok(()) => true,
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs));
                false
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    fn stored(conn: &mut AnyConnection, key: &str) -> Option<i32> {
        login_attempts::table
            .find(key)
            .select(login_attempts::attempts)
            .first(conn)
            .optional()
            .unwrap()
    }

    #[test]
    fn a_username_has_its_budget_per_window_and_a_refusal_counts_nothing() {
        let t = throttle();
        let (_dir, mut conn) = database();
        let keys = t.keys(" Amina ", None);
        assert_eq!(keys.username, t.keys("amina", None).username);
        for _ in 0..3 {
            assert!(attempt(&t, &mut conn, &keys, 0));
        }
        assert!(!attempt(&t, &mut conn, &keys, 1));
        assert_eq!(
            stored(&mut conn, &keys.username),
            Some(3),
            "refusal rolled back"
        );
        // A new window starts the count again.
        assert!(attempt(&t, &mut conn, &keys, 61));
        assert_eq!(stored(&mut conn, &keys.username), Some(1));
        write_transaction(&mut conn, |conn| t.succeeded(conn, &keys)).unwrap();
        assert_eq!(stored(&mut conn, &keys.username), None);
    }

    #[test]
    fn an_address_is_counted_across_usernames_and_a_success_gives_its_slot_back() {
        let t = throttle();
        let (_dir, mut conn) = database();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..5 {
            assert!(attempt(
                &t,
                &mut conn,
                &t.keys(&format!("user{n}"), Some(ip)),
                0
            ));
        }
        let next = t.keys("someone-else", Some(ip));
        assert!(!attempt(&t, &mut conn, &next, 0));
        assert_eq!(stored(&mut conn, &next.username), None, "nothing counted");
        assert!(attempt(&t, &mut conn, &t.keys("someone-else", None), 0));
        write_transaction(&mut conn, |conn| {
            t.succeeded(conn, &t.keys("user0", Some(ip)))
        })
        .unwrap();
        assert!(attempt(&t, &mut conn, &next, 0), "a slot given back");
        let address = next.address.unwrap();
        assert!(address.starts_with("a:") && !address.contains("192"));
    }

    #[test]
    fn ended_windows_are_swept_and_live_ones_kept() {
        let t = throttle();
        let (_dir, mut conn) = database();
        let (old, live) = (t.keys("old", None), t.keys("live", None));
        assert!(attempt(&t, &mut conn, &old, 0));
        assert!(attempt(&t, &mut conn, &live, 50));
        let now = chrono::DateTime::from_timestamp(1_800_000_000 + 70, 0)
            .unwrap()
            .naive_utc();
        sweep(&mut conn, now - t.window).unwrap();
        assert_eq!(stored(&mut conn, &old.username), None);
        assert_eq!(stored(&mut conn, &live.username), Some(1));
    }
}
