//! The one re-chain: the events written before the trail was keyed
//! (migration `2026-12-02-000009_audit_trail`) are sealed with the audit key
//! and linked again with chain MACs, at the seqs they had, in one
//! transaction, once. The old SHA-256 chain is checked on the way; the
//! `audit.rechain` event that records the re-chain says whether it held and
//! names its last head, so that an anchor recorded under the old scheme can
//! still be compared by hand. The table `audit_rechain` records that it ran,
//! and the triggers allow these updates only until then.
//!
//! Run by the server before it serves, and by `sanad audit verify` and
//! `sanad audit anchor` before they look (whichever comes first).

use diesel::prelude::*;

use super::chain::{chained_after, lock_sequencer, rechain_pending};
use super::legacy::LegacyWalk;
use super::mac::{self, GENESIS, Sealed};
use super::model::{Action, Entity, Event, NewEvent, Outcome};
use super::store;
use super::verify::hex;
use crate::crypto::AuditKeys;
use crate::db::schema::{audit_events, audit_rechain};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::time;
use crate::error::ApiError;

/// What the re-chain did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rechained {
    /// Events that were in the old chain, now linked with MACs.
    pub chained: u64,
    /// Events not yet chained, now sealed (the sequencer links them).
    pub pending: u64,
    /// The first event at which the old SHA-256 chain did not hold.
    pub legacy_broken_at: Option<String>,
}

/// Re-chains the events from before the audit key, if that has not been
/// done; `None` when it had.
pub fn run_once(conn: &mut AnyConnection, keys: &AuditKeys) -> Result<Option<Rechained>, ApiError> {
    write_transaction(conn, |conn| {
        lock_sequencer(conn)?;
        if !rechain_pending(conn)? {
            return Ok(None);
        }
        let key = keys.active();
        let (chained, walk) = relink(conn, keys)?;
        let pending = seal_unchained(conn, keys)?;
        diesel::update(audit_rechain::table)
            .set(audit_rechain::done_at.eq(Some(time::now())))
            .execute(conn)?;
        let (seq, hash) = walk.head();
        let held = match &walk.first_broken {
            None => "the SHA-256 chain held".to_string(),
            Some(id) => format!("the SHA-256 chain did not hold from event {id}"),
        };
        let outcome = match walk.first_broken {
            None => Outcome::Success,
            Some(_) => Outcome::Failure,
        };
        let event = NewEvent::new(Action::AuditRechain, outcome)
            .entity(Entity::AuditLog, uuid::Uuid::nil())
            .detail(format!(
                "{chained} chained and {pending} pending events sealed under audit key {key}; {held}; old head {seq}:{}",
                hex(hash)
            ));
        store::append_with(conn, keys, &event)?;
        Ok(Some(Rechained {
            chained,
            pending,
            legacy_broken_at: walk.first_broken.clone(),
        }))
    })
}

/// Every chained event, by seq: checked against the old chain, then sealed
/// and linked again at its seq.
fn relink(conn: &mut AnyConnection, keys: &AuditKeys) -> Result<(u64, LegacyWalk), ApiError> {
    const PAGE: i64 = 1_000;
    let key = keys.active();
    let mut walk = LegacyWalk::default();
    let mut prev = GENESIS.to_vec();
    let mut last = 0;
    let mut chained = 0;
    loop {
        let page = chained_after(conn, last, PAGE)?;
        if page.is_empty() {
            break;
        }
        for event in &page {
            walk.step(event);
            let seq = event.seq.unwrap_or(last + 1);
            let tag = seal(keys, event)?;
            let hash = mac::chain_mac(keys, key, seq, &prev, Some(&tag)).ok_or_else(no_key)?;
            diesel::update(audit_events::table.filter(audit_events::id.eq(&event.id)))
                .set((
                    audit_events::key_id.eq(key),
                    audit_events::mac.eq(tag.to_vec()),
                    audit_events::prev_hash.eq(prev.clone()),
                    audit_events::hash.eq(hash.to_vec()),
                    audit_events::chain_key_id.eq(key),
                ))
                .execute(conn)?;
            prev = hash.to_vec();
            last = seq;
            chained += 1;
        }
    }
    Ok((chained, walk))
}

/// Every unchained event from before the key, sealed.
fn seal_unchained(conn: &mut AnyConnection, keys: &AuditKeys) -> Result<u64, ApiError> {
    let events: Vec<Event> = audit_events::table
        .filter(audit_events::seq.is_null())
        .filter(audit_events::key_id.is_null())
        .select(Event::as_select())
        .load(conn)?;
    for event in &events {
        let tag = seal(keys, event)?;
        diesel::update(audit_events::table.filter(audit_events::id.eq(&event.id)))
            .set((
                audit_events::key_id.eq(keys.active()),
                audit_events::mac.eq(tag.to_vec()),
            ))
            .execute(conn)?;
    }
    Ok(events.len() as u64)
}

/// An old event's MAC: it has no subjects.
fn seal(keys: &AuditKeys, event: &Event) -> Result<[u8; 32], ApiError> {
    mac::event_mac(keys, &Sealed::of_event(event, keys.active(), &[])).ok_or_else(no_key)
}

fn no_key() -> ApiError {
    ApiError::internal(anyhow::anyhow!("the active audit key is missing"))
}
