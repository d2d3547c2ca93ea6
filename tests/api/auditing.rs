//! The audit log over HTTP: auditors read and verify it, nobody else can,
//! and the trail of a person's case holds ids only.

use sanad::domain::Role;
use serde_json::Value;

use crate::helpers::{assert_problem, create, id_of, new_case, spawn_app};

#[tokio::test]
async fn auditors_read_and_verify_the_log_and_no_other_role_can() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = create(&app, &worker, &new_case(city, "رقية كناري")).await;
    let id = case["id"].as_str().unwrap();
    app.get_as(&worker, &format!("/api/v1/cases/{id}")).await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    let page: Value = app
        .get_as(&auditor, &format!("/api/v1/audit?entity_id={id}"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["case.read", "case.create"], "newest first");
    assert!(!page.to_string().contains("رقية"), "{page}");

    let filtered: Value = app
        .get_as(&auditor, "/api/v1/audit?action=auth.login&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let next = filtered["next_cursor"]
        .as_str()
        .expect("more logins than one");
    let second: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?action=auth.login&limit=1&cursor={next}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["items"][0]["id"], filtered["items"][0]["id"]);
    assert_problem(
        app.get_as(&auditor, "/api/v1/audit?action=nonsense").await,
        422,
    )
    .await;
    assert_problem(
        app.get_as(&auditor, "/api/v1/audit?cursor=garbage").await,
        422,
    )
    .await;

    let verified: Value = app
        .get_as(&auditor, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(verified["events"].as_u64().unwrap() >= 5);

    for role in [
        Role::SocialWorker,
        Role::CitySupervisor,
        Role::MinistryOfficial,
        Role::Admin,
    ] {
        let cities = if role.is_city_scoped() {
            vec![city]
        } else {
            vec![]
        };
        let token = app.signed_in(role, &cities, None).await;
        assert_problem(app.get_as(&token, "/api/v1/audit").await, 403).await;
        assert_problem(app.get_as(&token, "/api/v1/audit/verify").await, 403).await;
    }
}

#[tokio::test]
async fn a_denied_attempt_is_audited_and_a_failed_request_leaves_no_success_event() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let owner = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let case = create(&app, &owner, &new_case(mosul, "x")).await;
    let id = case["id"].as_str().unwrap();
    let stranger = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    assert_problem(
        app.get_as(&stranger, &format!("/api/v1/cases/{id}")).await,
        404,
    )
    .await;
    let stale = app
        .client
        .patch(app.url(&format!("/api/v1/cases/{id}")))
        .bearer_auth(&owner)
        .header("if-match", "\"7\"")
        .json(&serde_json::json!({"return_date": "2026-03-05"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    let page: Value = app
        .get_as(&auditor, &format!("/api/v1/audit?entity_id={id}"))
        .await
        .json()
        .await
        .unwrap();

    let events: Vec<(&str, &str)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![("access.denied", "denied"), ("case.create", "success")]
    );
}

#[tokio::test]
async fn an_admins_read_of_a_case_is_refused_and_the_refusal_audited() {
    let s = spawn_app().with_city("MOS").signed_in(Role::Admin).await;
    let worker = s.app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let case = create(&s.app, &worker, &new_case(s.city, "نادية كناري")).await;
    let id = id_of(&case);

    let read = s.app.get_as(&s.token, &format!("/api/v1/cases/{id}")).await;

    let body = assert_problem(read, 403).await;
    assert!(!body.to_string().contains("نادية"), "{body}");
    let denied = s.app.audit_events("access.denied").await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    let event = &denied[0];
    assert_eq!(event["outcome"], "denied");
    assert_eq!(event["actor_id"], s.user.id.as_str());
    assert_eq!(event["actor_role"], "admin");
    assert_eq!(event["entity"], "case");
    assert_eq!(event["entity_id"], id);
    assert_eq!(event["city_id"], s.city.to_string());
    assert_eq!(event["detail"], "CaseRead");
    assert!(s.app.audit_events("case.read").await.is_empty());
}
