//! Who saw whom: every answer that carried a person is found under their
//! case (`GET /audit?entity_id=`), searches are recorded by the blind index
//! of their terms, and `POST /audit/lookups` tells an auditor which events
//! searched for a national ID, a phone number or a name.

use std::collections::BTreeSet;

use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, create, id_of, new_case, refer, spawn_app};

/// Every action recorded under `entity`, as an auditor pages through them.
async fn actions_about(app: &TestApp, auditor: &str, entity: &str) -> Vec<String> {
    let items = app
        .all_items(
            auditor,
            &format!("/api/v1/audit?entity_id={entity}&limit=3"),
        )
        .await;
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn lookup(app: &TestApp, auditor: &str, term: Value) -> reqwest::Response {
    app.post_as(auditor, "/api/v1/audit/lookups", &term).await
}

async fn found(app: &TestApp, auditor: &str, term: Value) -> Vec<Value> {
    let response = lookup(app, auditor, term).await;
    assert_eq!(response.status().as_u16(), 200);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_answer_that_carried_a_person_is_found_under_their_case() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let org = app.organisation(OrganisationKind::Psychosocial, s.city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let household: Value = app
        .post_as(worker, "/api/v1/households", &json!({"city_id": s.city}))
        .await
        .json()
        .await
        .unwrap();
    let mut body = new_case(s.city, "نور حسن");
    body["household_id"] = household["id"].clone();
    let seen = id_of(&create(app, worker, &body).await).to_string();
    let mut other = new_case(s.city, "زينب كريم");
    other["subject"]["national_id"] = json!("5555");
    other["subject"]["phone"] = json!("07809998877");
    let unseen = id_of(&create(app, worker, &other).await).to_string();

    app.all_items(worker, "/api/v1/cases").await;
    let search = app
        .post_as(worker, "/api/v1/cases/search", &json!({"name": "نور"}))
        .await;
    assert_eq!(search.status().as_u16(), 200);
    let household_path = format!("/api/v1/households/{}", id_of(&household));
    assert_eq!(app.get_as(worker, &household_path).await.status(), 200);
    let referral = id_of(&refer(app, worker, &seen, org).await).to_string();
    app.all_items(&provider, "/api/v1/referrals").await;
    let read = app
        .get_as(&provider, &format!("/api/v1/referrals/{referral}"))
        .await;
    assert_eq!(read.status(), 200);
    app.all_items(worker, "/api/v1/referrals").await;
    let asked = app
        .post_as(
            worker,
            &format!("/api/v1/cases/{seen}/transfers"),
            &json!({"to_city_id": telafar, "reason": "Family moved"}),
        )
        .await;
    assert_eq!(asked.status(), 201);
    app.all_items(&receiver, "/api/v1/transfers").await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    let about_seen: BTreeSet<String> = actions_about(app, &auditor, &seen)
        .await
        .into_iter()
        .collect();
    for action in [
        "case.create",
        "case.list",
        "case.search",
        "household.read",
        "referral.create",
        "referral.list",
        "referral.read",
        "transfer.create",
        "transfer.list",
    ] {
        assert!(
            about_seen.contains(action),
            "{action} missing: {about_seen:?}"
        );
    }
    let lists = actions_about(app, &auditor, &seen).await;
    assert_eq!(
        lists.iter().filter(|a| *a == "referral.list").count(),
        2,
        "the provider's inbox and the city's list"
    );
    let about_unseen = actions_about(app, &auditor, &unseen).await;
    assert_eq!(about_unseen, ["case.list", "case.create"]);

    // The search names the kind and blind index of its term, never the term.
    let searches = app.audit_events("case.search").await;
    let subjects = searches[0]["subjects"].as_array().unwrap();
    let term = subjects.iter().find(|s| s["kind"] == "name").unwrap();
    let index = term["id"].as_str().unwrap();
    assert!(index.len() == 16 && index.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        subjects
            .iter()
            .any(|s| s["kind"] == "case" && s["id"] == seen.as_str())
    );
    assert!(!searches[0].to_string().contains("نور"));
}

#[tokio::test]
async fn an_auditor_finds_who_searched_for_a_term() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let (app, worker) = (&s.app, &s.token);
    create(app, worker, &new_case(s.city, "نور حسن")).await;
    let search = |term: Value| async move {
        let response = app.post_as(worker, "/api/v1/cases/search", &term).await;
        assert_eq!(response.status().as_u16(), 200);
        response
    };
    search(json!({"name": "نور"})).await;
    search(json!({"national_id": "1990 1234 5678"})).await;
    search(json!({"phone": "+964 770 123 4567", "name": "حسن نور"})).await;
    let auditor = app.signed_in(Role::Auditor, &[], None).await;

    // The same terms, typed another way: the index is of the normalised term.
    let by_id = found(app, &auditor, json!({"national_id": "١٩٩٠١٢٣٤٥٦٧٨"})).await;
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0]["action"], "case.search");
    assert_eq!(by_id[0]["actor_id"], s.user.id.as_str());
    let by_phone = found(app, &auditor, json!({"phone": "0770-123-4567"})).await;
    assert_eq!(by_phone.len(), 1);
    assert_eq!(found(app, &auditor, json!({"name": "نور"})).await.len(), 2);
    assert_eq!(
        found(app, &auditor, json!({"name": "نور حسن"})).await.len(),
        1
    );
    assert!(
        found(app, &auditor, json!({"name": "زينب"}))
            .await
            .is_empty()
    );
    // A lookup is itself a search for its term: the auditors' earlier
    // lookups of نور are found too, a page at a time.
    let mut actions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let term = json!({"name": "نور", "limit": 1, "cursor": cursor});
        let page: Value = lookup(app, &auditor, term).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1);
        actions.extend(
            items
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        actions,
        ["audit.lookup", "audit.lookup", "case.search", "case.search"],
        "newest first"
    );

    // Each lookup is recorded with the index it looked for, not the term.
    let lookups = app.audit_events("audit.lookup").await;
    assert_eq!(lookups.len(), 9);
    for event in &lookups {
        let subjects = event["subjects"].as_array().unwrap();
        assert!(!subjects.is_empty());
        assert!(subjects.iter().all(|s| s["kind"] != "case"), "{event}");
    }
    assert!(!serde_json::to_string(&lookups).unwrap().contains("نور"));
}

#[tokio::test]
async fn a_lookup_needs_one_term_it_can_index_and_an_auditor() {
    let s = spawn_app().with_city("MOS").signed_in(Role::Auditor).await;
    let app = &s.app;
    for (term, field) in [
        (json!({}), "body"),
        (json!({"national_id": "12", "phone": "07701234567"}), "body"),
        (json!({"national_id": "no digits"}), "national_id"),
        (json!({"phone": "12"}), "phone"),
        (json!({"name": "!!!"}), "name"),
        (json!({"name": "نور", "cursor": "garbage"}), "cursor"),
    ] {
        let body = assert_problem(lookup(app, &s.token, term.clone()).await, 422).await;
        assert_eq!(body["errors"][0]["field"], field, "{term}");
        assert!(!body.to_string().contains("07701234567"));
    }
    assert!(
        app.audit_events("audit.lookup").await.is_empty(),
        "nothing changed"
    );
    let worker = app.signed_in(Role::SocialWorker, &[s.city], None).await;
    assert_problem(lookup(app, &worker, json!({"name": "نور"})).await, 403).await;
    let denied = app.audit_events("access.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["detail"], "AuditLookup");
}
