//! Key rotation while requests run: a new KEK is added, a second node
//! starts with it (a restart), and every data key is rewrapped while that
//! node serves reads — none may fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sanad::domain::Role;

use crate::helpers::{create, new_case, spawn_app, spawn_second_node, test_settings};

#[tokio::test]
async fn rotation_rewraps_every_data_key_with_no_failed_read() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let user = app.user(Role::SocialWorker, &[city], None);
    let token = app.token(&user).await;
    let mut urls = Vec::new();
    for i in 0..30 {
        let case = create(&app, &token, &new_case(city, &format!("شخص {i}"))).await;
        urls.push(format!("/api/v1/cases/{}", case["id"].as_str().unwrap()));
    }
    let settings = test_settings(&app.db, &app.keyring_path);
    let old = {
        let ring =
            sanad::crypto::Keyring::from_json(&std::fs::read_to_string(&app.keyring_path).unwrap())
                .unwrap();
        ring.active_kek_version()
    };

    let added = sanad::key_rotation::add_kek(&settings, &mut app.conn()).unwrap();
    assert_eq!(added, old + 1);
    let node = spawn_second_node(&app).await;
    let token = node.token(&user).await;

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, reads, client, base, token, urls) = (
            stop.clone(),
            reads.clone(),
            node.client.clone(),
            node.address.clone(),
            token.clone(),
            urls.clone(),
        );
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for url in &urls {
                    let status = client
                        .get(format!("{base}{url}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .status();
                    reads.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        failures.push(status.as_u16());
                    }
                }
            }
            failures
        })
    };
    let progress = tokio::task::spawn_blocking(move || {
        let mut conn = sanad::db::ConnectionManager::new(settings.database.url(), 5000)
            .unwrap()
            .establish()
            .unwrap();
        // Batches of three, so the rotation spans many transactions.
        let mut reports = 0;
        let done = sanad::key_rotation::rotate(&settings, &mut conn, 3, |_| reports += 1).unwrap();
        assert!(reports > 5, "progress was reported per batch");
        done
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let failures = reader.await.unwrap();

    assert_eq!(progress.active, added);
    assert_eq!(progress.remaining, 0, "every data key is under the new KEK");
    assert_eq!(progress.rewrapped, 30);
    assert!(
        reads.load(Ordering::Relaxed) >= urls.len(),
        "reads ran during the rotation"
    );
    assert!(failures.is_empty(), "failed reads: {failures:?}");
    let after: serde_json::Value = node.get_as(&token, &urls[0]).await.json().await.unwrap();
    assert_eq!(after["subject"]["full_name"], "شخص 0");
}

/// A new audit key: events are sealed under it from the next start on, the
/// old key keeps verifying the events it sealed, and a node still on the
/// old keyring goes on chaining the new node's events.
#[tokio::test]
async fn a_new_audit_key_seals_what_follows_and_the_old_one_still_verifies() {
    use diesel::prelude::*;
    use sanad::db::schema::audit_events;

    let app = spawn_app().await;
    let city = app.city("MOS");
    let user = app.user(Role::SocialWorker, &[city], None);
    let token = app.token(&user).await;
    create(&app, &token, &new_case(city, "قديم")).await;
    let old = app.audit_keys().active().to_string();
    let settings = test_settings(&app.db, &app.keyring_path);

    let added = sanad::key_rotation::add_audit_key(&settings, &mut app.conn()).unwrap();
    let node = spawn_second_node(&app).await;
    let token = node.token(&user).await;
    create(&node, &token, &new_case(city, "جديد")).await;

    let keys = app.audit_keys();
    assert_eq!(keys.active(), added);
    assert_ne!(added, old);
    let report = sanad::audit::verify(&mut app.conn(), &keys).unwrap();
    assert!(report.ok, "{report:?}");
    let sealed: Vec<Option<String>> = audit_events::table
        .select(audit_events::key_id)
        .distinct()
        .load(&mut app.conn())
        .unwrap();
    assert!(sealed.contains(&Some(old.clone())) && sealed.contains(&Some(added.clone())));
    // Without the new key the new events cannot be verified: the keyring
    // must be backed up again.
    let old_only = {
        let mut json: serde_json::Value =
            serde_json::from_str(&app.keyring().to_json().unwrap()).unwrap();
        json["audit_keys"] = serde_json::json!(
            json["audit_keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|k| k["id"] == old.as_str())
                .cloned()
                .collect::<Vec<_>>()
        );
        json["active_audit_key"] = old.as_str().into();
        let keyring = sanad::crypto::Keyring::from_json(&json.to_string()).unwrap();
        sanad::crypto::AuditKeys::from_keyring(&keyring).unwrap()
    };
    assert!(!sanad::audit::verify(&mut app.conn(), &old_only).unwrap().ok);
}
