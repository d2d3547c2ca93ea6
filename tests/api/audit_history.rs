//! The trail over time: anchors held outside the database (a truncated or
//! rewritten trail, a made-up anchor, the command line), and the one
//! re-chain of the events from before the audit key.

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanad::audit::{
    self, Anchor, AnchorCheck, Event, check_anchor, legacy, sequence_pending, verify,
};
use sanad::db::AnyConnection;
use sanad::db::schema::audit_events::dsl;
use sanad::db::schema::audit_subjects;
use uuid::Uuid;

use crate::helpers::audit::{
    bypass_triggers, chained_log, connect_again, event_at, fresh_keys, id_at,
};
use crate::helpers::{TestDatabase, spawn_app};

#[test]
fn a_truncated_tail_shows_only_against_an_anchor() {
    let (_db, mut conn, keys) = chained_log(5);
    let (seq, hash) = verify(&mut conn, &keys).unwrap().head.expect("a head");
    let anchor = Anchor::sign(&keys, seq, &hash, Utc::now()).unwrap();
    bypass_triggers(&mut conn);

    let gone = dsl::audit_events.filter(dsl::seq.ge(4)).select(dsl::id);
    diesel::delete(audit_subjects::table.filter(audit_subjects::event_id.eq_any(gone)))
        .execute(&mut conn)
        .unwrap();
    diesel::delete(dsl::audit_events.filter(dsl::seq.ge(4)))
        .execute(&mut conn)
        .unwrap();
    let report = verify(&mut conn, &keys).unwrap();

    // What is left is a valid, shorter chain: verify cannot know more was
    // there; the anchor can.
    assert!(report.ok);
    assert_eq!(report.events, 3);
    assert_eq!(
        check_anchor(&mut conn, &keys, &anchor).unwrap(),
        AnchorCheck::Missing
    );
}

#[test]
fn a_rewrite_by_the_keyring_holder_shows_only_against_an_anchor() {
    let (_db, mut conn, keys) = chained_log(5);
    let (seq, hash) = verify(&mut conn, &keys).unwrap().head.expect("a head");
    let anchor = Anchor::sign(&keys, seq, &hash, Utc::now()).unwrap();
    let printed: Anchor = anchor.to_string().parse().unwrap();
    assert_eq!(
        check_anchor(&mut conn, &keys, &printed).unwrap(),
        AnchorCheck::Holds
    );
    // Someone holding the keyring and the owner's rights: the events are
    // sealed and linked again from seq 3 on, and verify finds nothing.
    bypass_triggers(&mut conn);
    let mut prev = event_at(&mut conn, 2).hash.unwrap();
    for seq in 3..=5 {
        let mut forged = event_at(&mut conn, seq);
        forged.outcome = "denied".into();
        let subjects = audit::store::subjects_of(&mut conn, &[forged.id.as_str()]).unwrap();
        let listed = subjects.get(&forged.id).cloned().unwrap_or_default();
        let sealed = audit::mac::Sealed::of_event(&forged, keys.active(), &listed);
        let mac = audit::mac::event_mac(&keys, &sealed).unwrap();
        let link = audit::mac::chain_mac(&keys, keys.active(), seq, &prev, Some(&mac)).unwrap();
        diesel::update(dsl::audit_events.filter(dsl::seq.eq(seq)))
            .set((
                dsl::outcome.eq("denied"),
                dsl::mac.eq(mac.to_vec()),
                dsl::prev_hash.eq(prev.clone()),
                dsl::hash.eq(link.to_vec()),
            ))
            .execute(&mut conn)
            .unwrap();
        prev = link.to_vec();
    }

    assert!(verify(&mut conn, &keys).unwrap().ok);
    assert_eq!(
        check_anchor(&mut conn, &keys, &anchor).unwrap(),
        AnchorCheck::Differs
    );
}

#[test]
fn an_anchor_not_signed_by_the_keyring_is_refused() {
    let (_db, mut conn, keys) = chained_log(3);
    let (seq, hash) = verify(&mut conn, &keys).unwrap().head.expect("a head");
    let signed = Anchor::sign(&keys, seq, &hash, Utc::now()).unwrap();
    let mut later = signed.clone();
    if let Some(s) = later.signed.as_mut() {
        s.time = "20990101T000000Z".into();
    }
    let other_keyring = Anchor::sign(&fresh_keys(), seq, &hash, Utc::now()).unwrap();

    for forged in [later, other_keyring] {
        assert_eq!(
            check_anchor(&mut conn, &keys, &forged).unwrap(),
            AnchorCheck::Forged
        );
    }
    let unsigned = Anchor {
        signed: None,
        ..signed
    };
    assert_eq!(
        check_anchor(&mut conn, &keys, &unsigned).unwrap(),
        AnchorCheck::Holds
    );
}

#[tokio::test]
async fn anchor_and_verify_on_the_command_line() {
    let app = spawn_app().await;
    let sanad = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sanad"))
            .args(args)
            .env("SANAD__DATABASE__URL", app.db.url())
            .env("SANAD__CRYPTO__KEYRING_FILE", &app.keyring_path)
            .env("SANAD__LOG__LEVEL", "warn")
            .output()
            .unwrap()
    };
    app.signed_in(sanad::domain::Role::Auditor, &[], None).await;

    let anchored = sanad(&["audit", "anchor"]);
    let out = String::from_utf8_lossy(&anchored.stdout).to_string();
    assert!(anchored.status.success(), "{out}");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("anchor: "))
        .unwrap();
    for field in ["sequence: ", "mac: ", "time: "] {
        assert!(out.contains(field), "{out}");
    }
    let held = sanad(&["audit", "verify", "--anchor", line]);
    assert!(
        held.status.success(),
        "{}",
        String::from_utf8_lossy(&held.stdout)
    );
    assert!(String::from_utf8_lossy(&held.stdout).contains("holds"));
    let tampered = line.replacen(":2026", ":2099", 1);
    let refused = sanad(&["audit", "verify", "--anchor", &tampered]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("not signed"));
    assert_eq!(app.audit_events("audit.anchor").await.len(), 1);
}

/// A database as the release before the audit key left it: events chained
/// with SHA-256 (one not chained yet), then this version's migration.
fn legacy_log(db: &TestDatabase, chained: i64) -> (AnyConnection, Vec<Event>) {
    let mut conn = connect_again(db);
    sanad::db::migrations::run_before(&mut conn, "20261202000009").unwrap();
    let mut prev = vec![0u8; 32];
    let mut events = Vec::new();
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    for seq in 1..=chained + 1 {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 1, 8, 0, 0)
            .unwrap()
            .naive_utc()
            + chrono::Duration::minutes(seq);
        let mut old = Event {
            id: Uuid::new_v4().to_string(),
            queue_no: seq,
            occurred_at: at,
            actor_id: Some(Uuid::new_v4().to_string()),
            actor_role: Some("social_worker".into()),
            action: "case.read".into(),
            entity: Some("case".into()),
            entity_id: Some(Uuid::new_v4().to_string()),
            city_id: None,
            outcome: "success".into(),
            request_id: None,
            detail: None,
            seq: None,
            prev_hash: None,
            hash: None,
            key_id: None,
            mac: None,
            chain_key_id: None,
        };
        let values = format!(
            "INSERT INTO audit_events (id, occurred_at, actor_id, actor_role, action, entity, entity_id, outcome) \
             VALUES ('{}', '{}', '{}', 'social_worker', 'case.read', 'case', '{}', 'success')",
            old.id,
            at.format("%Y-%m-%d %H:%M:%S%.6f"),
            old.actor_id.clone().unwrap(),
            old.entity_id.clone().unwrap()
        );
        conn.batch_execute(&values).unwrap();
        if seq <= chained {
            let hash = legacy::event_hash(&prev, &old).to_vec();
            let hex = audit::verify::hex;
            let literal = |b: &[u8]| match postgres {
                true => format!("'\\x{}'::bytea", hex(b)),
                false => format!("X'{}'", hex(b)),
            };
            let update = format!(
                "UPDATE audit_events SET seq = {seq}, prev_hash = {}, hash = {} WHERE id = '{}'",
                literal(&prev),
                literal(&hash),
                old.id
            );
            conn.batch_execute(&update).unwrap();
            old.seq = Some(seq);
            prev = hash;
        }
        events.push(old);
    }
    sanad::db::migrations::run(&mut conn).unwrap();
    (conn, events)
}

#[test]
fn the_events_from_before_the_audit_key_are_rechained_once() {
    let db = TestDatabase::create();
    let (mut conn, old) = legacy_log(&db, 4);
    let keys = fresh_keys();
    // Until then the sequencer leaves everything as it is.
    assert_eq!(sequence_pending(&mut conn, &keys, 10).unwrap(), 0);

    let done = audit::rechain::run_once(&mut conn, &keys).unwrap().unwrap();

    assert_eq!(
        (done.chained, done.pending, done.legacy_broken_at),
        (4, 1, None)
    );
    assert!(
        audit::rechain::run_once(&mut conn, &keys)
            .unwrap()
            .is_none()
    );
    let report = verify(&mut conn, &keys).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        report.events, 6,
        "4 old, the unchained one, and audit.rechain"
    );
    assert_eq!(id_at(&mut conn, 2), old[1].id, "the old order is kept");
    let recorded = event_at(&mut conn, 6);
    assert_eq!(
        (recorded.action.as_str(), recorded.outcome.as_str()),
        ("audit.rechain", "success")
    );
    assert!(recorded.detail.unwrap().contains("the SHA-256 chain held"));
}

#[test]
fn a_broken_old_chain_is_rechained_and_the_break_recorded() {
    let db = TestDatabase::create();
    let (mut conn, old) = legacy_log(&db, 3);
    conn.batch_execute(&format!(
        "UPDATE audit_events SET detail = 'edited' WHERE id = '{}'",
        old[1].id
    ))
    .expect_err("the old triggers still refuse this");
    bypass_triggers(&mut conn);
    conn.batch_execute(&format!(
        "UPDATE audit_events SET detail = 'edited' WHERE id = '{}'",
        old[1].id
    ))
    .unwrap();
    let keys = fresh_keys();

    let done = audit::rechain::run_once(&mut conn, &keys).unwrap().unwrap();

    assert_eq!(done.legacy_broken_at.as_deref(), Some(old[1].id.as_str()));
    verify(&mut conn, &keys).unwrap();
    let recorded: Event = dsl::audit_events
        .filter(dsl::action.eq("audit.rechain"))
        .select(Event::as_select())
        .first(&mut conn)
        .unwrap();
    assert_eq!(recorded.outcome, "failure");
    assert!(recorded.detail.unwrap().contains(&old[1].id));
}
