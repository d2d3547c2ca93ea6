//! The hash chain over audit events, built queue-then-sequence as in
//! transparency logs: appenders only INSERT (no lock, no waiting), and one
//! sequencer at a time gives committed, unchained events their position and
//! hash a few milliseconds later.
//!
//! `hash(n) = SHA-256(hash(n-1) ‖ canonical(event n))`, with 32 zero bytes
//! before the first event. `canonical` is, in this order:
//!
//! ```text
//! "sanad.audit.v1", id, occurred_at, actor_id, actor_role, action, entity,
//! entity_id, city_id, outcome, request_id, detail
//! ```
//!
//! each written as `0x00` when NULL, or `0x01 ‖ length (u32, big-endian) ‖
//! UTF-8 bytes` when present, so NULL and "" differ and no two events
//! encode alike. `occurred_at` is RFC 3339 in UTC with exactly six fractional
//! digits and a `Z` (`2026-11-22T08:30:00.000000Z`).
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
//! What [`verify`] can and cannot see: an edited, removed or inserted event
//! among the chained ones breaks a link. Removing the *last* events leaves a
//! shorter chain that is still valid, and someone who can bypass the triggers
//! can also recompute every hash after an edit. Both are caught only by
//! comparing with a head (`seq`, `hash`) recorded outside the database,
//! which is why [`Verification`] reports it.

use std::time::Duration;

use diesel::Connection;
use ring::digest::{Context, SHA256};

use super::model::Event;
use super::store;
use crate::db::{AnyConnection, Database};
use crate::error::ApiError;

/// What comes before the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// How many events one sequencer transaction chains at most.
pub const SEQUENCER_BATCH: usize = 500;

const DOMAIN: &str = "sanad.audit.v1";

/// The canonical encoding of an event's non-chain fields (see the module
/// documentation). `queue_no` is a storage detail and is not covered.
pub fn canonical(event: &Event) -> Vec<u8> {
    let occurred_at = event
        .occurred_at
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fields: [Option<&str>; 12] = [
        Some(DOMAIN),
        Some(&event.id),
        Some(&occurred_at),
        event.actor_id.as_deref(),
        event.actor_role.as_deref(),
        Some(&event.action),
        event.entity.as_deref(),
        event.entity_id.as_deref(),
        event.city_id.as_deref(),
        Some(&event.outcome),
        event.request_id.as_deref(),
        event.detail.as_deref(),
    ];
    let mut out = Vec::with_capacity(256);
    for field in fields {
        match field {
            None => out.push(0),
            Some(text) => {
                out.push(1);
                // Fields are far below 4 GiB (ids, names of actions, a cut
                // detail); a longer one would be refused by the database.
                let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out
}

/// `SHA-256(prev_hash ‖ canonical(event))`.
pub fn event_hash(prev_hash: &[u8; 32], event: &Event) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    context.update(prev_hash);
    context.update(&canonical(event));
    let mut hash = [0; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// Chains up to `batch` committed, unchained events in queue order, in one
/// transaction, as the only sequencer running. Returns how many it chained.
/// Safe to call from several processes at once: they take turns.
pub fn sequence_pending(conn: &mut AnyConnection, batch: usize) -> Result<usize, ApiError> {
    let batch = i64::try_from(batch.clamp(1, 10_000)).unwrap_or(1);
    // The background sequencer calls this 20 times a second; when nothing
    // waits it should not take the lock (on SQLite, the write lock).
    if !store::has_unchained(conn)? {
        return Ok(0);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match conn.transaction(|conn| sequence_batch(conn, batch)) {
            // The lock makes this unreachable in practice; should two
            // sequencers still race, UNIQUE(seq) stops the second and it
            // starts over from the new head.
            Err(ApiError::Conflict(_)) if attempt < 3 => continue,
            other => return other,
        }
    }
}

fn sequence_batch(conn: &mut AnyConnection, batch: i64) -> Result<usize, ApiError> {
    store::lock_sequencer(conn)?;
    let (mut seq, mut prev) = match store::chain_head(conn)? {
        None => (1, GENESIS),
        Some(head) => match head.hash.as_deref().map(<[u8; 32]>::try_from) {
            Some(Ok(hash)) => (head.seq + 1, hash),
            _ => return Err(broken_head(head.seq)),
        },
    };
    let events = store::unchained(conn, batch)?;
    for event in &events {
        let hash = event_hash(&prev, event);
        if !store::set_chain(conn, &event.id, seq, &prev, &hash)? {
            return Err(ApiError::Conflict("audit event already chained".into()));
        }
        prev = hash;
        seq += 1;
    }
    Ok(events.len())
}

fn broken_head(seq: i64) -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "audit chain head (seq {seq}) has no valid hash; run `sanad audit verify`"
    ))
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every chained event checked out.
    pub ok: bool,
    /// How many events were found intact, in seq order, before the first
    /// broken one (all of them when `ok`).
    pub events: u64,
    /// The first event whose hash, link or position is wrong. After a removed
    /// event this is the one that followed it.
    pub first_broken_id: Option<String>,
    /// The last intact event's seq and hash (lower-case hex): record it
    /// outside the database and compare later, since removing the newest
    /// events, or rewriting the whole chain, cannot be seen from inside.
    pub head: Option<(i64, String)>,
}

/// Chains what is pending (the same code as the background sequencer), then
/// walks the whole chain by seq, recomputing every hash and checking that
/// seqs run 1..n without a gap and that each event links to the one before.
pub fn verify(conn: &mut AnyConnection) -> Result<Verification, ApiError> {
    while sequence_pending(conn, SEQUENCER_BATCH)? == SEQUENCER_BATCH {}

    const PAGE: i64 = 1_000;
    let mut prev = GENESIS;
    let mut last_seq = 0;
    loop {
        let page = store::chained_after(conn, last_seq, PAGE)?;
        if page.is_empty() {
            break;
        }
        for event in page {
            let hash = event_hash(&prev, &event);
            let intact = event.seq == Some(last_seq + 1)
                && event.prev_hash.as_deref() == Some(prev.as_slice())
                && event.hash.as_deref() == Some(hash.as_slice());
            if !intact {
                return Ok(Verification {
                    ok: false,
                    events: u64::try_from(last_seq).unwrap_or(0),
                    first_broken_id: Some(event.id),
                    head: head(last_seq, &prev),
                });
            }
            prev = hash;
            last_seq += 1;
        }
    }
    Ok(Verification {
        ok: true,
        events: u64::try_from(last_seq).unwrap_or(0),
        first_broken_id: None,
        head: head(last_seq, &prev),
    })
}

/// A head (`seq`, `hash`) recorded outside the database, written
/// `SEQ:HEX` as `sanad audit verify` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    /// Lower-case hex of the 32-byte hash.
    pub hash: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Anchor, String> {
        let usage = || "expected SEQ:HASH, e.g. 42:3f0a… (64 hex digits)".to_string();
        let (seq, hash) = text.split_once(':').ok_or_else(usage)?;
        let seq: i64 = seq.trim().parse().map_err(|_| usage())?;
        let hash = hash.trim().to_ascii_lowercase();
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(usage());
        }
        Ok(Anchor { seq, hash })
    }
}

/// How the chain compares with a recorded [`Anchor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorCheck {
    /// The event at the anchor's seq still has the anchor's hash, so nothing
    /// up to it was changed, removed or rewritten.
    Holds,
    /// The chain is now shorter than the anchor: its last events are gone.
    Missing,
    /// The event at the anchor's seq has another hash: the chain was
    /// rewritten (or the anchor belongs to another database).
    Differs,
}

/// Compares the stored chain with a recorded head. Meaningful after a
/// [`verify`] that came out `ok` (which proved every stored hash right).
pub fn check_anchor(conn: &mut AnyConnection, anchor: &Anchor) -> Result<AnchorCheck, ApiError> {
    let Some(event) = store::chained_after(conn, anchor.seq - 1, 1)?
        .into_iter()
        .find(|event| event.seq == Some(anchor.seq))
    else {
        return Ok(AnchorCheck::Missing);
    };
    Ok(match event.hash {
        Some(hash) if hex(&hash) == anchor.hash => AnchorCheck::Holds,
        _ => AnchorCheck::Differs,
    })
}

fn head(seq: i64, hash: &[u8; 32]) -> Option<(i64, String)> {
    (seq > 0).then(|| (seq, hex(hash)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the sequencer every `interval` for the life of the process (or until
/// the handle is aborted). Failures are logged once when they start and once
/// when they stop, and retried at the next tick.
pub fn spawn_sequencer(db: Database, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            // A full batch means more may be waiting: go again at once.
            loop {
                match db.run(|conn| sequence_pending(conn, SEQUENCER_BATCH)).await {
                    Ok(chained) => {
                        if failing {
                            tracing::info!("audit sequencer recovered");
                            failing = false;
                        }
                        if chained < SEQUENCER_BATCH {
                            break;
                        }
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

#[cfg(test)]
mod tests;
