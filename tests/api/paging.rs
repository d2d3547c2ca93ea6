//! Bounded answers: a search answers one page and says how many more there
//! are; referral and transfer lists page by cursor like case lists. No list
//! is cut silently.

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, id_of, new_case, refer, spawn_app};

#[tokio::test]
async fn a_search_answers_a_page_and_counts_the_rest() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let telafar = app.city("TAF");
    let there = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    let mut here = Vec::new();
    for i in 0..5 {
        here.push(
            id_of(&create(app, worker, &new_case(s.city, &format!("مريم {i}"))).await).to_string(),
        );
    }
    for i in 0..2 {
        create(app, &there, &new_case(telafar, &format!("مريم {i}"))).await;
    }
    let search = |body: Value| async move {
        let response = app.post_as(worker, "/api/v1/cases/search", &body).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json::<Value>().await.unwrap()
    };

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut remaining = Vec::new();
    loop {
        let page = search(json!({"name": "مريم", "limit": 2, "cursor": cursor})).await;
        assert!(page["items"].as_array().unwrap().len() <= 2);
        assert_eq!(page["elsewhere"], 2);
        remaining.push(page["remaining"].as_u64().unwrap());
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(remaining, [3, 1, 0]);
    here.reverse();
    assert_eq!(seen, here, "newest first, each once");
    // Each page's event names that page's people only.
    let events = app.audit_events("case.search").await;
    for event in &events {
        let people = event["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "case")
            .count();
        assert!(people <= 2, "{event}");
    }
    // The default page is 20, the largest 100.
    let all = search(json!({"name": "مريم"})).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    let huge = search(json!({"name": "مريم", "limit": 100000})).await;
    assert_eq!(huge["remaining"], 0);
    assert_problem(
        app.post_as(
            worker,
            "/api/v1/cases/search",
            &json!({"name": "مريم", "cursor": "nope"}),
        )
        .await,
        422,
    )
    .await;
}

#[tokio::test]
async fn referral_and_transfer_lists_page_by_cursor_and_cut_nothing() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::ProviderStaff)
        .await;
    let app = &s.app;
    let org = s.org.unwrap();
    let telafar = app.city("TAF");
    let worker = app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let mut referrals = Vec::new();
    for i in 0..5 {
        let case =
            id_of(&create(app, &worker, &new_case(s.city, &format!("هدى {i}"))).await).to_string();
        referrals.push(id_of(&refer(app, &worker, &case, org).await).to_string());
        let asked = app
            .post_as(
                &worker,
                &format!("/api/v1/cases/{case}/transfers"),
                &json!({"to_city_id": telafar, "reason": "Family moved"}),
            )
            .await;
        assert_eq!(asked.status().as_u16(), 201);
    }
    // Two accepted: the inbox lists the three pending first.
    for id in &referrals[..2] {
        let accepted = app
            .post_as(
                &s.token,
                &format!("/api/v1/referrals/{id}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(accepted.status().as_u16(), 200);
    }

    let first: Value = app
        .get_as(&s.token, "/api/v1/referrals?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let inbox = app.all_items(&s.token, "/api/v1/referrals?limit=2").await;
    let states: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["pending", "pending", "pending", "accepted", "accepted"]
    );
    let mut ids: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected: Vec<&str> = referrals.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(ids, expected);
    let city = app.all_items(&worker, "/api/v1/referrals?limit=2").await;
    assert_eq!(city.as_array().unwrap().len(), 5);
    let incoming = app
        .all_items(&receiver, "/api/v1/transfers?direction=incoming&limit=2")
        .await;
    assert_eq!(incoming.as_array().unwrap().len(), 5);
    let pages = app.audit_events("transfer.list").await;
    assert_eq!(pages.len(), 3, "a page, a page and the last");
    for path in [
        "/api/v1/referrals?cursor=nope",
        "/api/v1/transfers?cursor=nope",
    ] {
        let token = if path.contains("referrals") {
            &s.token
        } else {
            &receiver
        };
        let body = assert_problem(app.get_as(token, path).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "cursor");
    }
}
