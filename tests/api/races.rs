//! Authorise where you act: the old city writes to a case while a transfer
//! acceptance that moves it is committing. The acceptance has moved the
//! case but not committed yet; the write waits for it, then finds the case
//! in the new city, out of its reach: 404, recorded as a refusal, and
//! nothing written. (Checked outside its transaction, the write would have
//! passed the policy on the old city and then acted on the moved case.)
//!
//! A read takes no lock: on PostgreSQL it is answered while the acceptance
//! is still open, from the case as it was, and recorded as such; on SQLite,
//! whose one write lock the acceptance holds, it waits and finds the case
//! moved. Either way the answer and its record agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sanad::audit;
use sanad::crypto::{AuditKeys, Keyring};
use sanad::db::write_transaction;
use sanad::domain::{CityId, OrganisationKind, Role, TransferId, TransferStatus, UserId};
use sanad::transfers::store;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, create, id_of, new_case, spawn_app};

/// A case of Mosul with a pending transfer to Tal Afar, and who is who.
struct Moving {
    app: TestApp,
    case: String,
    transfer: TransferId,
    mosul: CityId,
    telafar: CityId,
    sender: String,
    old_supervisor: String,
    receiver: TestUser,
    receiver_token: String,
}

async fn moving(name: &str) -> Moving {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let app = s.app;
    let telafar = app.city("TAF");
    let old_supervisor = app.signed_in(Role::CitySupervisor, &[s.city], None).await;
    let receiver = app.user(Role::CitySupervisor, &[telafar], None);
    let receiver_token = app.token(&receiver).await;
    let case = id_of(&create(&app, &s.token, &new_case(s.city, name)).await).to_string();
    let asked = app
        .post_as(
            &s.token,
            &format!("/api/v1/cases/{case}/transfers"),
            &json!({"to_city_id": telafar, "reason": "Family moved"}),
        )
        .await;
    let transfer = id_of(&asked.json().await.unwrap()).parse().unwrap();
    Moving {
        app,
        case,
        transfer,
        mosul: s.city,
        telafar,
        sender: s.token,
        old_supervisor,
        receiver,
        receiver_token,
    }
}

/// Runs `write` while the acceptance, as its route runs it, has moved the
/// case and holds its transaction open; returns the write's answer once
/// the acceptance has committed.
async fn during_acceptance<F, Fut>(m: &Moving, write: F) -> reqwest::Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    during_acceptance_timed(m, write).await.0
}

/// [`during_acceptance`], and whether the acceptance had committed by the
/// time the answer came (false: the request did not wait for it).
async fn during_acceptance_timed<F, Fut>(m: &Moving, write: F) -> (reqwest::Response, bool)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let keyring =
        Keyring::from_json(&std::fs::read_to_string(&m.app.keyring_path).unwrap()).unwrap();
    let keys = AuditKeys::from_keyring(&keyring).unwrap();
    let by: UserId = m.receiver.id.parse().unwrap();
    let transfer = m.transfer;
    let mut conn = m.app.conn();
    let (moved, case_moved) = std::sync::mpsc::channel();
    let committed = Arc::new(AtomicBool::new(false));
    let done = committed.clone();
    let accepting = tokio::task::spawn_blocking(move || {
        let accepted = write_transaction(&mut conn, |conn| {
            let row = store::find(conn, transfer)?.unwrap();
            store::decide(conn, &keyring, &row, TransferStatus::Accepted, by, None)?;
            store::carry_out(conn, &keyring, &row)?;
            let event =
                audit::NewEvent::new(audit::Action::TransferAccept, audit::Outcome::Success);
            audit::append_with(conn, &keys, &event)?;
            moved.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            Ok(())
        });
        done.store(true, Ordering::SeqCst);
        accepted
    });
    tokio::task::spawn_blocking(move || case_moved.recv())
        .await
        .unwrap()
        .unwrap();
    let answer = write().await;
    let waited = committed.load(Ordering::SeqCst);
    accepting.await.unwrap().unwrap();
    (answer, waited)
}

/// The case as its new city reads it.
async fn now(m: &Moving) -> Value {
    m.app
        .get_as(&m.receiver_token, &format!("/api/v1/cases/{}", m.case))
        .await
        .json()
        .await
        .unwrap()
}

async fn refused_as(m: &Moving, detail: &str) {
    let denied = m.app.audit_events("access.denied").await;
    assert!(
        denied
            .iter()
            .any(|e| e["entity_id"] == m.case.as_str() && e["detail"] == detail),
        "{denied:?}"
    );
}

#[tokio::test]
async fn a_close_racing_the_acceptance_of_a_transfer_fails() {
    let m = moving("رحاب").await;
    let path = format!("/api/v1/cases/{}/close", m.case);
    let body = json!({"reason": "No longer here"});

    let close = during_acceptance(&m, || m.app.post_as(&m.old_supervisor, &path, &body)).await;

    assert_problem(close, 404).await;
    let case = now(&m).await;
    assert_eq!(case["city_id"], m.telafar.to_string());
    assert_eq!(case["status"], "open");
    refused_as(&m, "CaseClose").await;
    assert!(m.app.audit_events("case.close").await.is_empty());
}

#[tokio::test]
async fn a_note_racing_the_acceptance_of_a_transfer_fails() {
    let m = moving("سهى").await;
    let path = format!("/api/v1/cases/{}/notes", m.case);
    let body = json!({"body": "Visited the old address"});

    let note = during_acceptance(&m, || m.app.post_as(&m.sender, &path, &body)).await;

    assert_problem(note, 404).await;
    let notes: Value = m
        .app
        .get_as(&m.receiver_token, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes, json!([]));
    assert_eq!(
        now(&m).await["status"],
        "open",
        "a first note would make it active"
    );
    refused_as(&m, "NoteCreate").await;
}

#[tokio::test]
async fn a_referral_racing_the_acceptance_of_a_transfer_fails() {
    let m = moving("دعاء").await;
    let mosul_org = m.app.organisation(OrganisationKind::Psychosocial, m.mosul);
    let path = format!("/api/v1/cases/{}/referrals", m.case);
    let body =
        json!({"kind": "psychosocial", "organisation_id": mosul_org, "reason": "Counselling"});

    let referral = during_acceptance(&m, || m.app.post_as(&m.sender, &path, &body)).await;

    assert_problem(referral, 404).await;
    let theirs = m
        .app
        .all_items(&m.receiver_token, "/api/v1/referrals")
        .await;
    assert_eq!(theirs, json!([]));
    refused_as(&m, "ReferralCreate").await;
}

#[tokio::test]
async fn a_read_racing_the_acceptance_of_a_transfer_agrees_with_its_record() {
    let m = moving("ولاء").await;
    let path = format!("/api/v1/cases/{}", m.case);

    let (read, waited) = during_acceptance_timed(&m, || m.app.get_as(&m.sender, &path)).await;

    let status = read.status().as_u16();
    let reads = m.app.audit_events("case.read").await;
    let read_by_mosul = reads
        .iter()
        .any(|e| e["entity_id"] == m.case.as_str() && e["city_id"] == m.mosul.to_string());
    if m.app.db.is_postgres() {
        // No lock to wait for: answered from the case as committed, in
        // Mosul, while the acceptance was still open.
        assert!(!waited, "the read waited for the acceptance to commit");
        assert_eq!(status, 200);
        let case: Value = read.json().await.unwrap();
        assert_eq!(case["city_id"], m.mosul.to_string());
        assert!(read_by_mosul, "{reads:?}");
    } else {
        // SQLite's one write lock: the read's transaction comes after.
        assert_problem(read, 404).await;
        assert!(!read_by_mosul, "{reads:?}");
        refused_as(&m, "CaseRead").await;
    }
    assert_eq!(now(&m).await["city_id"], m.telafar.to_string());
}
