//! The trail as it was before the audit key: a SHA-256 chain with no key,
//! `hash(n) = SHA-256(hash(n-1) ‖ canonical_v1(event n))`, 32 zero bytes
//! before the first event. `canonical_v1` is, in this order,
//!
//! ```text
//! "sanad.audit.v1", id, occurred_at, actor_id, actor_role, action, entity,
//! entity_id, city_id, outcome, request_id, detail
//! ```
//!
//! encoded as `mac::Sealed::canonical` encodes its fields. Kept only to
//! check the old chain once, while [`super::rechain`] seals and links its
//! events again under the audit key.

use ring::digest::{Context, SHA256};

use super::mac::GENESIS;
use super::model::Event;

const DOMAIN: &str = "sanad.audit.v1";

/// The v1 canonical encoding of an event's non-chain fields.
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
                let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out
}

/// `SHA-256(prev_hash ‖ canonical_v1(event))`.
pub fn event_hash(prev_hash: &[u8], event: &Event) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    context.update(prev_hash);
    context.update(&canonical(event));
    let mut hash = [0; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// Walks the old chain one event at a time, in seq order.
#[derive(Debug)]
pub struct LegacyWalk {
    prev: Vec<u8>,
    seq: i64,
    /// The first event whose hash, link or position was wrong.
    pub first_broken: Option<String>,
}

impl Default for LegacyWalk {
    fn default() -> LegacyWalk {
        LegacyWalk {
            prev: GENESIS.to_vec(),
            seq: 0,
            first_broken: None,
        }
    }
}

impl LegacyWalk {
    /// Checks the next chained event against the one before, then moves on
    /// from it (from its stored hash, so one break is not counted twice).
    pub fn step(&mut self, event: &Event) {
        let intact = event.seq == Some(self.seq + 1)
            && event.prev_hash.as_deref() == Some(self.prev.as_slice())
            && event.hash.as_deref() == Some(event_hash(&self.prev, event).as_slice());
        if !intact && self.first_broken.is_none() {
            self.first_broken = Some(event.id.clone());
        }
        self.prev = event.hash.clone().unwrap_or_default();
        self.seq = event.seq.unwrap_or(self.seq + 1);
    }

    /// The last event walked: its seq and hash.
    pub fn head(&self) -> (i64, &[u8]) {
        (self.seq, &self.prev)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;
    use crate::audit::verify::hex;

    fn fixed_event() -> Event {
        Event {
            id: "5f1c7a2e-3b8d-4c6f-9e0a-1d2b3c4d5e6f".into(),
            queue_no: 7,
            occurred_at: NaiveDateTime::parse_from_str(
                "2026-11-22 08:30:00.123456",
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .unwrap(),
            actor_id: Some("0b7a4a8e-4c39-4a77-9a8e-6f2c9a1d2e3f".into()),
            actor_role: Some("social_worker".into()),
            action: "case.read".into(),
            entity: Some("case".into()),
            entity_id: Some("9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into()),
            city_id: Some("3bae88c0-1eab-514b-b657-7d130a5efce4".into()),
            outcome: "success".into(),
            request_id: None,
            detail: Some(String::new()),
            seq: None,
            prev_hash: None,
            hash: None,
            key_id: None,
            mac: None,
            chain_key_id: None,
        }
    }

    #[test]
    fn the_old_encoding_is_unchanged() {
        // The known answer the old chain was pinned by (Python hashlib).
        assert_eq!(
            hex(&event_hash(&GENESIS, &fixed_event())),
            "e01f2941baf9c44f5a06a0bd237cf46a9ff6bc91d3c29b40d792e9ba54ee0e45"
        );
    }

    #[test]
    fn a_walk_names_the_first_break_once() {
        let mut events = Vec::new();
        let mut prev = GENESIS.to_vec();
        for seq in 1..=4 {
            let mut event = fixed_event();
            event.id = format!("event-{seq}");
            event.seq = Some(seq);
            event.prev_hash = Some(prev.clone());
            let hash = event_hash(&prev, &event).to_vec();
            event.hash = Some(hash.clone());
            prev = hash;
            events.push(event);
        }
        events[1].outcome = "denied".into();
        let mut walk = LegacyWalk::default();
        for event in &events {
            walk.step(event);
        }
        assert_eq!(walk.first_broken.as_deref(), Some("event-2"));
        assert_eq!(walk.head().0, 4);
    }
}
