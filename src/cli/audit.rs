//! `sanad audit verify` and `sanad audit anchor`: what they print, and
//! their exit status (0 when the trail holds, 1 when it does not).

use std::process::ExitCode;

use crate::audit::{self, Action, Anchor, AnchorCheck, Entity, NewEvent, Outcome, Verification};
use crate::db::AnyConnection;
use crate::settings::Settings;

use super::commands;

/// Connects, re-chains the events from before the audit key if that has
/// not been done, and verifies.
fn checked(
    settings: &Settings,
) -> anyhow::Result<(
    AnyConnection,
    std::sync::Arc<crate::crypto::AuditKeys>,
    Verification,
)> {
    let keys = commands::audit_keys(settings)?;
    let mut conn = commands::connect(settings)?;
    if let Some(done) = audit::rechain::run_once(&mut conn, &keys)? {
        println!(
            "re-chained the events from before the audit key: {} chained, {} pending{}",
            done.chained,
            done.pending,
            match &done.legacy_broken_at {
                None => String::new(),
                Some(id) => format!("; the old SHA-256 chain did not hold from event {id}"),
            }
        );
    }
    let report = audit::verify(&mut conn, &keys)?;
    Ok((conn, keys, report))
}

/// Prints the outcome of a verification; false when it is broken.
fn report(report: &Verification) -> bool {
    let head = match &report.head {
        Some((seq, hash)) => format!("head: {seq}:{hash}"),
        None => "head: none (empty log)".into(),
    };
    if !report.ok {
        let id = report.first_broken_id.clone().unwrap_or_default();
        println!(
            "broken: first broken event {id} (after {} intact events; {} broken in all)",
            report.events, report.broken
        );
        println!("last intact {head}");
        return false;
    }
    println!("ok: {} events", report.events);
    println!("{head}");
    true
}

/// `sanad audit verify [--anchor A]`: exit 0 when the trail holds (and
/// holds the anchor, if given), 1 when not.
pub fn verify(settings: &Settings, anchor: Option<&Anchor>) -> anyhow::Result<ExitCode> {
    let (mut conn, keys, verification) = checked(settings)?;
    if !report(&verification) {
        return Ok(ExitCode::from(1));
    }
    let Some(anchor) = anchor else {
        return Ok(ExitCode::SUCCESS);
    };
    let broken = match audit::check_anchor(&mut conn, &keys, anchor)? {
        AnchorCheck::Holds => {
            println!("anchor {}: holds", anchor.seq);
            return Ok(ExitCode::SUCCESS);
        }
        AnchorCheck::Missing => format!(
            "broken: anchor {} is past the end: events were removed",
            anchor.seq
        ),
        AnchorCheck::Differs => format!(
            "broken: event {} no longer has the anchored hash: the chain was rewritten",
            anchor.seq
        ),
        AnchorCheck::Forged => format!(
            "broken: the anchor for event {} is not signed by this keyring's audit key (altered, or not made by `sanad audit anchor`)",
            anchor.seq
        ),
    };
    println!("{broken}");
    Ok(ExitCode::from(1))
}

/// `sanad audit anchor`: verifies, then prints the head signed with the
/// audit key, for an outside witness, and records that it was taken.
pub fn anchor(settings: &Settings) -> anyhow::Result<ExitCode> {
    let (mut conn, keys, verification) = checked(settings)?;
    if !report(&verification) {
        println!("no anchor: the trail does not verify");
        return Ok(ExitCode::from(1));
    }
    let Some((seq, hash)) = &verification.head else {
        println!("no anchor: the log is empty");
        return Ok(ExitCode::from(1));
    };
    let signed = Anchor::sign(&keys, *seq, hash, chrono::Utc::now())
        .ok_or_else(|| anyhow::anyhow!("the active audit key could not sign"))?;
    let time = signed
        .signed
        .as_ref()
        .map(|s| s.time.clone())
        .unwrap_or_default();
    println!("sequence: {seq}");
    println!("mac: {hash}");
    println!("time: {time}");
    println!("anchor: {signed}");
    let event = NewEvent::new(Action::AuditAnchor, Outcome::Success)
        .entity(Entity::AuditLog, uuid::Uuid::nil())
        .detail(format!("head {seq} anchored"));
    crate::db::write_transaction(&mut conn, |conn| audit::append_with(conn, &keys, &event))?;
    Ok(ExitCode::SUCCESS)
}
