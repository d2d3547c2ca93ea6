//! Verification of the trail, and anchors: heads recorded outside the
//! database.
//!
//! [`verify`] chains what is pending, then walks the whole chain by seq.
//! Each event must hold on its own (its MAC over its fields and subjects,
//! under a key of the keyring, every subject row stamped with its time;
//! its chain MAC over its seq, link and MAC) and against the one before (seq
//! one more, link equal to that event's hash). Without the keyring nobody
//! can make an event or a link that holds, so an event inserted, changed,
//! removed or moved by someone with only database access is named. What is
//! left unseen: the newest events removed together with nothing after them,
//! and a whole trail rewritten by someone who holds the keyring. Both show
//! against an [`Anchor`] recorded outside the database.

use super::chain::{SEQUENCER_BATCH, chained_after, sequence_pending};
use super::mac::{self, GENESIS, Sealed};
use super::model::{Event, SubjectRow};
use super::store;
use crate::crypto::AuditKeys;
use crate::db::AnyConnection;
use crate::error::ApiError;

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every chained event checked out.
    pub ok: bool,
    /// How many events were found intact, in seq order, before the first
    /// broken one (all of them when `ok`).
    pub events: u64,
    /// How many events did not check out, in the whole chain.
    pub broken: u64,
    /// The first event whose MAC, link or position is wrong. After a removed
    /// event this is the one that followed it.
    pub first_broken_id: Option<String>,
    /// The last intact event's seq and hash (lower-case hex), before any
    /// broken one: record it outside the database (`sanad audit anchor`).
    pub head: Option<(i64, String)>,
}

/// Chains what is pending (the same code as the background sequencer), then
/// checks every chained event (see the module documentation).
pub fn verify(conn: &mut AnyConnection, keys: &AuditKeys) -> Result<Verification, ApiError> {
    while sequence_pending(conn, keys, SEQUENCER_BATCH)? == SEQUENCER_BATCH {}

    const PAGE: i64 = 1_000;
    let mut walk = Walk::new();
    loop {
        let page = chained_after(conn, walk.last_seq, PAGE)?;
        if page.is_empty() {
            break;
        }
        let ids: Vec<&str> = page.iter().map(|e| e.id.as_str()).collect();
        let subjects = store::subjects_of(conn, &ids)?;
        for event in &page {
            let listed = subjects.get(&event.id).map_or(&[][..], Vec::as_slice);
            walk.step(keys, event, listed);
        }
    }
    Ok(walk.finish())
}

struct Walk {
    prev: Vec<u8>,
    last_seq: i64,
    intact: u64,
    broken: u64,
    first_broken: Option<String>,
    head: Option<(i64, String)>,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            prev: GENESIS.to_vec(),
            last_seq: 0,
            intact: 0,
            broken: 0,
            first_broken: None,
            head: None,
        }
    }

    /// Checks one event, then goes on from its stored hash, so that one
    /// break is counted once.
    fn step(&mut self, keys: &AuditKeys, event: &Event, subjects: &[SubjectRow]) {
        let holds = event.seq == Some(self.last_seq + 1)
            && event.prev_hash.as_deref() == Some(self.prev.as_slice())
            && sealed(keys, event, subjects)
            && linked(keys, event);
        match (holds, &self.first_broken) {
            (true, None) => {
                self.intact += 1;
                self.head = event.seq.zip(event.hash.as_deref().map(hex));
            }
            (true, Some(_)) => {}
            (false, _) => {
                self.broken += 1;
                self.first_broken.get_or_insert_with(|| event.id.clone());
            }
        }
        self.prev = event.hash.clone().unwrap_or_default();
        self.last_seq = event.seq.unwrap_or(self.last_seq + 1);
    }

    fn finish(self) -> Verification {
        Verification {
            ok: self.broken == 0,
            events: self.intact,
            broken: self.broken,
            first_broken_id: self.first_broken,
            head: self.head,
        }
    }
}

/// The event's own MAC holds over its fields and subjects.
fn sealed(keys: &AuditKeys, event: &Event, subjects: &[SubjectRow]) -> bool {
    let (Some(key_id), Some(tag)) = (&event.key_id, &event.mac) else {
        return false;
    };
    subjects.iter().all(|s| s.occurred_at == event.occurred_at)
        && mac::event_mac_holds(keys, &Sealed::of_event(event, key_id, subjects), tag)
}

/// The event's chain MAC holds over its seq, link and MAC.
fn linked(keys: &AuditKeys, event: &Event) -> bool {
    match (
        &event.chain_key_id,
        event.seq,
        &event.prev_hash,
        &event.hash,
    ) {
        (Some(key_id), Some(seq), Some(prev), Some(hash)) => {
            mac::chain_mac_holds(keys, key_id, seq, prev, event.mac.as_deref(), hash)
        }
        _ => false,
    }
}

/// A head recorded outside the database: `SEQ:HASH`, or as `sanad audit
/// anchor` prints it, signed: `SEQ:HASH:TIME:KEY_ID:TAG`, the tag an HMAC
/// under the audit key (`mac::anchor_tag`), the time `YYYYMMDDTHHMMSSZ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    /// Lower-case hex of the 32-byte chain MAC.
    pub hash: String,
    pub signed: Option<Signature>,
}

/// What makes an anchor one that only the keyring's holder could make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub time: String,
    pub key_id: String,
    /// Lower-case hex.
    pub tag: String,
}

impl Anchor {
    /// The head `(seq, hash)` signed now with the active audit key.
    pub fn sign(
        keys: &AuditKeys,
        seq: i64,
        hash: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Anchor> {
        let time = at.format("%Y%m%dT%H%M%SZ").to_string();
        let key_id = keys.active().to_string();
        let tag = mac::anchor_tag(keys, &key_id, seq, &unhex(hash)?, &time)?;
        Some(Anchor {
            seq,
            hash: hash.to_string(),
            signed: Some(Signature {
                time,
                key_id,
                tag: hex(&tag),
            }),
        })
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)?;
        if let Some(s) = &self.signed {
            write!(f, ":{}:{}:{}", s.time, s.key_id, s.tag)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Anchor, String> {
        let usage = || {
            "expected SEQ:HASH or SEQ:HASH:TIME:KEY_ID:TAG as `sanad audit anchor` prints it"
                .to_string()
        };
        let parts: Vec<&str> = text.trim().split(':').collect();
        let is_mac = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let (seq, hash) = match parts.as_slice() {
            [seq, hash] | [seq, hash, _, _, _] => (seq, hash.to_ascii_lowercase()),
            _ => return Err(usage()),
        };
        let seq: i64 = seq.parse().map_err(|_| usage())?;
        if seq < 1 || !is_mac(&hash) {
            return Err(usage());
        }
        let signed = match parts.as_slice() {
            [_, _, time, key_id, tag] if is_mac(tag) && !key_id.is_empty() => Some(Signature {
                time: time.to_string(),
                key_id: key_id.to_string(),
                tag: tag.to_ascii_lowercase(),
            }),
            [_, _] => None,
            _ => return Err(usage()),
        };
        Ok(Anchor { seq, hash, signed })
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
    /// The anchor's tag does not verify under the keyring: it was not made
    /// by `sanad audit anchor` with this keyring, or was altered.
    Forged,
}

/// Compares the stored chain with a recorded head. Meaningful after a
/// [`verify`] that came out `ok`.
pub fn check_anchor(
    conn: &mut AnyConnection,
    keys: &AuditKeys,
    anchor: &Anchor,
) -> Result<AnchorCheck, ApiError> {
    if let Some(s) = &anchor.signed {
        let holds = match (unhex(&anchor.hash), unhex(&s.tag)) {
            (Some(hash), Some(tag)) => {
                mac::anchor_tag_holds(keys, &s.key_id, anchor.seq, &hash, &s.time, &tag)
            }
            _ => false,
        };
        if !holds {
            return Ok(AnchorCheck::Forged);
        }
    }
    let Some(event) = chained_after(conn, anchor.seq - 1, 1)?
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

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keyring;

    #[test]
    fn anchors_parse_as_printed() {
        let hash = "AB".repeat(32);
        let anchor: Anchor = format!("42:{hash}").parse().unwrap();
        assert_eq!(
            (anchor.seq, anchor.hash.as_str()),
            (42, "ab".repeat(32).as_str())
        );
        assert!(anchor.signed.is_none());
        for bad in [
            "",
            "42",
            "0:00",
            &format!("x:{hash}"),
            &format!("1:{}", "g".repeat(64)),
            &format!("1:{hash}:20261122T083000Z:kid"),
            &format!("1:{hash}:20261122T083000Z::{hash}"),
        ] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_signed_anchor_round_trips_and_its_tag_binds_every_part() {
        let keys = AuditKeys::from_keyring(&Keyring::generate().unwrap()).unwrap();
        let hash = "cd".repeat(32);
        let anchor = Anchor::sign(&keys, 7, &hash, chrono::Utc::now()).unwrap();
        let again: Anchor = anchor.to_string().parse().unwrap();
        assert_eq!(again, anchor);
        let s = again.signed.clone().unwrap();
        let tag = unhex(&s.tag).unwrap();
        let holds = |seq, hash: &str, time: &str| {
            mac::anchor_tag_holds(&keys, &s.key_id, seq, &unhex(hash).unwrap(), time, &tag)
        };
        assert!(holds(7, &hash, &s.time));
        assert!(!holds(8, &hash, &s.time));
        assert!(!holds(7, &"ce".repeat(32), &s.time));
        assert!(!holds(7, &hash, "20000101T000000Z"));
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
