//! The chain over audit events, built queue-then-sequence as in
//! transparency logs: appenders only INSERT (no lock, no waiting), each
//! event sealed with its own MAC (`mac`); one sequencer at a time gives
//! committed, unchained events their position and chain MAC a few
//! milliseconds later, under the active audit key.
//!
//! Order: the sequencer takes unchained events by `queue_no`, the order in
//! which they were inserted. On PostgreSQL an identity value is drawn at
//! INSERT, not at COMMIT, so an event can become visible after one with a
//! higher number, and a rolled-back INSERT leaves a number unused. The
//! sequencer therefore chains whatever is visible, in queue order, and picks
//! a late event up on a later run (it looks for `seq IS NULL`, never for
//! "queue numbers after the last one"). Gaps in `queue_no` are harmless:
//! the chain is ordered and checked by `seq`, which has none.
//!
//! The sequencer links every event, forged ones included (an event inserted
//! by someone without the audit key has no valid MAC): refusing would stall
//! the chain behind it. It logs them, and `verify` names them.

use std::sync::Arc;
use std::time::Duration;

use diesel::Connection;
use diesel::prelude::*;

use super::mac::{self, GENESIS};
use super::model::Event;
use crate::crypto::AuditKeys;
use crate::db::schema::{audit_events, audit_rechain};
use crate::db::{AnyConnection, Database};
use crate::error::ApiError;

/// How many events one sequencer transaction chains at most.
pub const SEQUENCER_BATCH: usize = 500;

/// Chains up to `batch` committed, unchained events in queue order, in one
/// transaction, as the only sequencer running. Returns how many it chained.
/// Safe to call from several processes at once: they take turns.
pub fn sequence_pending(
    conn: &mut AnyConnection,
    keys: &AuditKeys,
    batch: usize,
) -> Result<usize, ApiError> {
    let batch = i64::try_from(batch.clamp(1, 10_000)).unwrap_or(1);
    // The background sequencer calls this 20 times a second; when nothing
    // waits it should not take the lock (on SQLite, the write lock).
    if !has_unchained(conn)? {
        return Ok(0);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match conn.transaction(|conn| sequence_batch(conn, keys, batch)) {
            // The lock makes this unreachable in practice; should two
            // sequencers still race, UNIQUE(seq) stops the second and it
            // starts over from the new head.
            Err(ApiError::Conflict(_)) if attempt < 3 => continue,
            other => return other,
        }
    }
}

fn sequence_batch(
    conn: &mut AnyConnection,
    keys: &AuditKeys,
    batch: i64,
) -> Result<usize, ApiError> {
    lock_sequencer(conn)?;
    // Events from before the audit key wait for the one re-chain
    // (`rechain::run_once`, run at start-up), which links them first.
    if rechain_pending(conn)? {
        return Ok(0);
    }
    let (mut seq, mut prev) = match chain_head(conn)? {
        None => (1, GENESIS.to_vec()),
        Some((seq, Some(hash))) if hash.len() == GENESIS.len() => (seq + 1, hash),
        Some((seq, _)) => return Err(broken_head(seq)),
    };
    let chain_key = keys.active();
    let events = unchained(conn, batch)?;
    let mut links = Vec::with_capacity(events.len());
    for event in &events {
        warn_if_unsealed(keys, event);
        let hash =
            mac::chain_mac(keys, chain_key, seq, &prev, event.mac.as_deref()).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("the active audit key is missing"))
            })?;
        links.push(Link {
            id: event.id.clone(),
            seq,
            prev_hash: std::mem::replace(&mut prev, hash.to_vec()),
            hash: hash.to_vec(),
        });
        seq += 1;
    }
    if set_chain(conn, &links, chain_key)? != links.len() {
        return Err(ApiError::Conflict("audit event already chained".into()));
    }
    Ok(events.len())
}

/// One event's place in the chain, as the sequencer writes it.
struct Link {
    id: String,
    seq: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// An event with no MAC was not written by Sanad; one under a key this node
/// lacks was written by a node with a newer keyring, or forged.
fn warn_if_unsealed(keys: &AuditKeys, event: &Event) {
    match (&event.key_id, &event.mac) {
        (Some(key), Some(_)) if keys.holds(key) => {}
        (Some(key), Some(_)) => tracing::warn!(
            event_id = %event.id,
            audit_key = %key,
            "an audit event names an audit key this node does not hold: restart it with the current keyring; if no node holds the key, the event is forged"
        ),
        _ => tracing::error!(
            event_id = %event.id,
            "an audit event without a MAC was chained: written by someone without the audit key; `sanad audit verify` names it"
        ),
    }
}

fn broken_head(seq: i64) -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "audit chain head (seq {seq}) has no valid hash; run `sanad audit verify`"
    ))
}

/// Runs the sequencer every `interval` for the life of the process (or until
/// the handle is aborted). Failures are logged once when they start and once
/// when they stop, and retried at the next tick.
pub fn spawn_sequencer(
    db: Database,
    keys: Arc<AuditKeys>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            // A full batch means more may be waiting: go again, after
            // letting the requests that queued meanwhile take their turn
            // (on SQLite a batch holds the one write lock, and a sequencer
            // that took it back at once would starve them while a backlog
            // drains).
            loop {
                let keys = Arc::clone(&keys);
                let run = db.run(move |conn| sequence_pending(conn, &keys, SEQUENCER_BATCH));
                match run.await {
                    Ok(chained) => {
                        if failing {
                            tracing::info!("audit sequencer recovered");
                            failing = false;
                        }
                        if chained < SEQUENCER_BATCH {
                            break;
                        }
                        tokio::time::sleep(BACKLOG_PAUSE).await;
                    }
                    Err(err) => {
                        if !failing {
                            tracing::warn!(error = %err, "audit sequencer failed; retrying");
                            failing = true;
                        }
                        break;
                    }
                }
            }
        }
    })
}

/// The pause between two full batches while a backlog drains: short
/// enough to chain 500 events in well under a second, long enough for
/// the requests waiting for the database to go first.
const BACKLOG_PAUSE: Duration = Duration::from_millis(5);

/// An arbitrary constant naming the sequencer's PostgreSQL advisory lock.
const SEQUENCER_LOCK: i64 = 0x7361_6e61_6461_7564; // "sanadaud"

/// Makes the current transaction the only sequencer until it ends. Call it
/// first inside the transaction.
///
/// PostgreSQL: a transaction-scoped advisory lock, released at commit or
/// rollback; appenders never take it.
/// SQLite: diesel begins a deferred transaction, so a first SELECT would read
/// a snapshot that a concurrent sequencer could make stale (and the later
/// UPDATE would then fail). A no-op UPDATE as the first statement takes the
/// database's write lock at once, waiting up to `busy_timeout`, which is what
/// `BEGIN IMMEDIATE` would do. It matches no row, so no trigger fires.
pub(crate) fn lock_sequencer(conn: &mut AnyConnection) -> Result<(), ApiError> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(SEQUENCER_LOCK)
                .execute(pg)?;
        }
        AnyConnection::Sqlite(lite) => {
            diesel::sql_query("UPDATE audit_events SET seq = seq WHERE 0").execute(lite)?;
        }
    }
    Ok(())
}

/// Whether the one re-chain of the events from before the audit key has
/// yet to run.
pub(crate) fn rechain_pending(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        audit_rechain::table.filter(audit_rechain::done_at.is_null()),
    ))
    .get_result(conn)?)
}

/// A chained event's position and hash.
type Head = (i64, Option<Vec<u8>>);

/// The last chained event's position and hash, if any.
fn chain_head(conn: &mut AnyConnection) -> Result<Option<Head>, ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.is_not_null())
        .order(dsl::seq.desc())
        .select((dsl::seq.assume_not_null(), dsl::hash))
        .first(conn)
        .optional()?)
}

/// Whether any committed event waits to be chained: a cheap look (the partial
/// index) so an idle sequencer takes no lock.
fn has_unchained(conn: &mut AnyConnection) -> Result<bool, ApiError> {
    use audit_events::dsl;
    Ok(diesel::select(diesel::dsl::exists(
        dsl::audit_events.filter(dsl::seq.is_null()),
    ))
    .get_result(conn)?)
}

/// How many committed events wait to be chained, and when the oldest of
/// them happened: how far the sequencer lags (the benchmark reads it).
pub fn backlog(conn: &mut AnyConnection) -> Result<(i64, Option<chrono::NaiveDateTime>), ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.is_null())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(dsl::occurred_at),
        ))
        .first(conn)?)
}

/// Up to `batch` committed, unchained events, in queue order.
pub(crate) fn unchained(conn: &mut AnyConnection, batch: i64) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.is_null())
        .order(dsl::queue_no.asc())
        .limit(batch)
        .select(Event::as_select())
        .load(conn)?)
}

/// Fills the chain columns of unchained events (the one update the
/// table's triggers allow); returns how many it filled, fewer when one was
/// already chained. On PostgreSQL the whole batch is one statement (every
/// link sent as arrays), not a round trip per event; SQLite runs in the
/// process, where a statement per event costs no round trip.
fn set_chain(
    conn: &mut AnyConnection,
    links: &[Link],
    chain_key_id: &str,
) -> Result<usize, ApiError> {
    use diesel::sql_types::{Array, BigInt, Binary, Text};
    match conn {
        AnyConnection::Postgresql(pg) => {
            let ids: Vec<&str> = links.iter().map(|l| l.id.as_str()).collect();
            let seqs: Vec<i64> = links.iter().map(|l| l.seq).collect();
            let prevs: Vec<&[u8]> = links.iter().map(|l| l.prev_hash.as_slice()).collect();
            let hashes: Vec<&[u8]> = links.iter().map(|l| l.hash.as_slice()).collect();
            Ok(diesel::sql_query(
                "UPDATE audit_events AS e \
                 SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash, chain_key_id = $5 \
                 FROM unnest($1, $2, $3, $4) AS l (id, seq, prev_hash, hash) \
                 WHERE e.id = l.id AND e.seq IS NULL",
            )
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<BigInt>, _>(seqs)
            .bind::<Array<Binary>, _>(prevs)
            .bind::<Array<Binary>, _>(hashes)
            .bind::<Text, _>(chain_key_id)
            .execute(pg)?)
        }
        AnyConnection::Sqlite(_) => {
            use audit_events::dsl;
            let mut updated = 0;
            for link in links {
                updated += diesel::update(
                    dsl::audit_events
                        .filter(dsl::id.eq(&link.id))
                        .filter(dsl::seq.is_null()),
                )
                .set((
                    dsl::seq.eq(link.seq),
                    dsl::prev_hash.eq(&link.prev_hash),
                    dsl::hash.eq(&link.hash),
                    dsl::chain_key_id.eq(chain_key_id),
                ))
                .execute(conn)?;
            }
            Ok(updated)
        }
    }
}

/// Up to `limit` chained events with `seq` greater than `after`, by seq.
pub(crate) fn chained_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    use audit_events::dsl;
    Ok(dsl::audit_events
        .filter(dsl::seq.gt(after))
        .order(dsl::seq.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)?)
}
