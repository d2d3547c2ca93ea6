//! The MACs that make the audit trail unforgeable without the keyring
//! (keys: `crypto::audit_keys`, one HMAC-SHA256 key per purpose).
//!
//! - **Event MAC**, made as the event is appended, in the transaction of
//!   what it records: `mac = HMAC(event key of key_id, canonical(event))`,
//!   where `canonical` is, in this order,
//!
//!   ```text
//!   "sanad.audit.v2", key_id, id, occurred_at, actor_id, actor_role, action,
//!   entity, entity_id, city_id, outcome, request_id, detail,
//!   count of subjects (u32, big-endian), then each subject's kind and id,
//!   sorted by kind, then id
//!   ```
//!
//!   each text written as `0x00` when NULL, or `0x01 ‖ length (u32,
//!   big-endian) ‖ UTF-8 bytes`, so NULL and "" differ and no two events
//!   encode alike. `occurred_at` is RFC 3339 in UTC with exactly six
//!   fractional digits and a `Z`. A removed or added subject row changes it.
//! - **Chain MAC**, made by the sequencer: `hash(n) = HMAC(chain key of
//!   chain_key_id, "sanad.audit.chain.v2" ‖ seq (i64, big-endian) ‖
//!   hash(n-1) ‖ mac(n))`, with 32 zero bytes before the first event and in
//!   place of a missing event MAC (which verification reports anyway).
//!   Binding `seq` makes a reordering visible even where links still meet.
//! - **Anchor tag**: `HMAC(anchor key of key_id, "sanad.audit.anchor.v1" ‖
//!   seq (i64, big-endian) ‖ hash ‖ time)`, `time` as printed
//!   (`YYYYMMDDTHHMMSSZ`): a head handed to an outside witness that nobody
//!   without the keyring could have made up.

use chrono::NaiveDateTime;

use super::model::{Event, NewEventRow, SubjectRow};
use crate::crypto::audit_keys::{AuditKeys, MAC_LEN, Purpose};

/// What comes before the first event.
pub const GENESIS: [u8; MAC_LEN] = [0; MAC_LEN];

const EVENT_DOMAIN: &str = "sanad.audit.v2";
const CHAIN_DOMAIN: &[u8] = b"sanad.audit.chain.v2";
const ANCHOR_DOMAIN: &[u8] = b"sanad.audit.anchor.v1";

/// The fields an event MAC covers, as stored.
#[derive(Debug, Clone)]
pub struct Sealed<'a> {
    pub key_id: &'a str,
    pub id: &'a str,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub entity: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub city_id: Option<&'a str>,
    pub outcome: &'a str,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// `(kind, id)`, in any order.
    pub subjects: Vec<(&'a str, &'a str)>,
}

impl<'a> Sealed<'a> {
    /// A row about to be inserted, with its subject rows.
    pub(crate) fn of_row(
        row: &'a NewEventRow<'a>,
        key_id: &'a str,
        subjects: &'a [SubjectRow],
    ) -> Sealed<'a> {
        Sealed {
            key_id,
            id: &row.id,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id.as_deref(),
            actor_role: row.actor_role,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            city_id: row.city_id.as_deref(),
            outcome: row.outcome,
            request_id: row.request_id,
            detail: row.detail,
            subjects: subjects
                .iter()
                .map(|s| (s.kind.as_str(), s.subject_id.as_str()))
                .collect(),
        }
    }

    /// A stored event, with the subject rows stored for it.
    pub fn of_event(event: &'a Event, key_id: &'a str, subjects: &'a [SubjectRow]) -> Sealed<'a> {
        Sealed {
            key_id,
            id: &event.id,
            occurred_at: event.occurred_at,
            actor_id: event.actor_id.as_deref(),
            actor_role: event.actor_role.as_deref(),
            action: &event.action,
            entity: event.entity.as_deref(),
            entity_id: event.entity_id.as_deref(),
            city_id: event.city_id.as_deref(),
            outcome: &event.outcome,
            request_id: event.request_id.as_deref(),
            detail: event.detail.as_deref(),
            subjects: subjects
                .iter()
                .map(|s| (s.kind.as_str(), s.subject_id.as_str()))
                .collect(),
        }
    }

    /// The canonical encoding (see the module documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let occurred_at = self
            .occurred_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let fields: [Option<&str>; 13] = [
            Some(EVENT_DOMAIN),
            Some(self.key_id),
            Some(self.id),
            Some(&occurred_at),
            self.actor_id,
            self.actor_role,
            Some(self.action),
            self.entity,
            self.entity_id,
            self.city_id,
            Some(self.outcome),
            self.request_id,
            self.detail,
        ];
        let mut out = Vec::with_capacity(256 + 64 * self.subjects.len());
        for field in fields {
            put(&mut out, field);
        }
        let mut subjects = self.subjects.clone();
        subjects.sort_unstable();
        out.extend_from_slice(&length(subjects.len()).to_be_bytes());
        for (kind, id) in subjects {
            put(&mut out, Some(kind));
            put(&mut out, Some(id));
        }
        out
    }
}

fn length(len: usize) -> u32 {
    // Fields and subject lists are far below 4 GiB; the database would
    // refuse longer ones.
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn put(out: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            out.extend_from_slice(&length(text.len()).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// The event MAC under `fields.key_id`; `None` when that key is not held.
pub fn event_mac(keys: &AuditKeys, fields: &Sealed<'_>) -> Option<[u8; MAC_LEN]> {
    keys.mac(fields.key_id, Purpose::Event, &[&fields.canonical()])
}

/// Whether `mac` is the event MAC of `fields` (false for a key not held).
pub fn event_mac_holds(keys: &AuditKeys, fields: &Sealed<'_>, mac: &[u8]) -> bool {
    keys.verify(fields.key_id, Purpose::Event, &[&fields.canonical()], mac)
}

fn chain_parts<'a>(seq: &'a [u8; 8], prev: &'a [u8], mac: Option<&'a [u8]>) -> [&'a [u8]; 4] {
    [CHAIN_DOMAIN, seq, prev, mac.unwrap_or(&GENESIS)]
}

/// The chain MAC of the event at `seq` after `prev`; `None` when the key
/// `key_id` is not held.
pub fn chain_mac(
    keys: &AuditKeys,
    key_id: &str,
    seq: i64,
    prev: &[u8],
    mac: Option<&[u8]>,
) -> Option<[u8; MAC_LEN]> {
    let seq = seq.to_be_bytes();
    keys.mac(key_id, Purpose::Chain, &chain_parts(&seq, prev, mac))
}

/// Whether `hash` is that chain MAC (false for a key not held).
pub fn chain_mac_holds(
    keys: &AuditKeys,
    key_id: &str,
    seq: i64,
    prev: &[u8],
    mac: Option<&[u8]>,
    hash: &[u8],
) -> bool {
    let seq = seq.to_be_bytes();
    keys.verify(key_id, Purpose::Chain, &chain_parts(&seq, prev, mac), hash)
}

fn anchor_parts<'a>(seq: &'a [u8; 8], hash: &'a [u8], time: &'a str) -> [&'a [u8]; 4] {
    [ANCHOR_DOMAIN, seq, hash, time.as_bytes()]
}

/// The tag of an anchor; `None` when the key is not held.
pub fn anchor_tag(
    keys: &AuditKeys,
    key_id: &str,
    seq: i64,
    hash: &[u8],
    time: &str,
) -> Option<[u8; MAC_LEN]> {
    let seq = seq.to_be_bytes();
    keys.mac(key_id, Purpose::Anchor, &anchor_parts(&seq, hash, time))
}

/// Whether `tag` is that anchor's tag (false for a key not held).
pub fn anchor_tag_holds(
    keys: &AuditKeys,
    key_id: &str,
    seq: i64,
    hash: &[u8],
    time: &str,
    tag: &[u8],
) -> bool {
    let seq = seq.to_be_bytes();
    keys.verify(
        key_id,
        Purpose::Anchor,
        &anchor_parts(&seq, hash, time),
        tag,
    )
}

#[cfg(test)]
mod tests;
