//! Closing a case needs a second pair of eyes: a worker asks, a supervisor
//! of the case's city who did not ask approves (the case closes) or returns
//! it; open referrals keep a case open (409 naming them); a supervisor's
//! direct close is kept as self-approved and refused too while referrals
//! are open.

use sanad::domain::{CityId, OrganisationId, OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, contains, create, database_bytes, id_of, new_case, refer, spawn_app,
    step,
};

const NOTE: &str = "تعمل في المخبز والأطفال في المدرسة";

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    supervisor: String,
    org: OrganisationId,
    provider: String,
    case: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::Psychosocial, city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let case = id_of(&create(&app, &worker, &new_case(city, "مريم خالد")).await).to_string();
    World {
        app,
        city,
        worker,
        supervisor,
        org,
        provider,
        case,
    }
}

async fn ask(w: &World, token: &str, body: &Value) -> reqwest::Response {
    w.app
        .post_as(
            token,
            &format!("/api/v1/cases/{}/closure-requests", w.case),
            body,
        )
        .await
}

async fn decide(w: &World, token: &str, id: &str, what: &str, body: &Value) -> reqwest::Response {
    w.app
        .post_as(
            token,
            &format!("/api/v1/closure-requests/{id}/{what}"),
            body,
        )
        .await
}

async fn case_status(w: &World) -> Value {
    let case: Value = w
        .app
        .get_as(&w.worker, &format!("/api/v1/cases/{}", w.case))
        .await
        .json()
        .await
        .unwrap();
    case["status"].clone()
}

#[tokio::test]
async fn a_worker_asks_a_supervisor_approves_and_the_case_closes() {
    let w = world().await;
    let app = &w.app;
    let asked = ask(
        &w,
        &w.worker,
        &json!({"reason": "services_completed", "note": NOTE}),
    )
    .await;
    assert_eq!(asked.status().as_u16(), 201);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["reason"], "services_completed");
    assert_eq!(asked["note"], NOTE);
    let id = id_of(&asked).to_string();
    assert!(!contains(&database_bytes(&app.db), NOTE));

    // One request waits at a time; a bad reason is a 422 naming it.
    assert_problem(ask(&w, &w.worker, &json!({"reason": "other"})).await, 409).await;
    let bad = assert_problem(ask(&w, &w.worker, &json!({"reason": "bored"})).await, 422).await;
    assert_eq!(bad["errors"][0]["field"], "reason");
    // A worker cannot decide; the case stays open meanwhile.
    assert_problem(decide(&w, &w.worker, &id, "approve", &json!({})).await, 403).await;
    assert_eq!(case_status(&w).await, "open");

    let approved = decide(&w, &w.supervisor, &id, "approve", &json!({})).await;
    assert_eq!(approved.status().as_u16(), 200);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(case_status(&w).await, "closed");
    // Decided once.
    assert_problem(
        decide(&w, &w.supervisor, &id, "approve", &json!({})).await,
        409,
    )
    .await;

    let listed: Value = app
        .get_as(
            &w.worker,
            &format!("/api/v1/cases/{}/closure-requests", w.case),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "approved");
    assert_eq!(listed[0]["note"], NOTE);

    // Every step is found under the person.
    let auditor = app.signed_in(Role::Auditor, &[], None).await;
    let about: Value = app
        .get_as(
            &auditor,
            &format!("/api/v1/audit?entity_id={}&limit=100", w.case),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = about["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["closure.request", "closure.approve", "closure.list"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    assert!(!about.to_string().contains(NOTE));
}

#[tokio::test]
async fn nobody_decides_their_own_request_and_a_returned_one_can_be_asked_again() {
    let w = world().await;
    let app = &w.app;
    let own: Value = ask(&w, &w.supervisor, &json!({"reason": "moved_abroad"}))
        .await
        .json()
        .await
        .unwrap();
    let own_id = id_of(&own).to_string();
    assert_problem(
        decide(&w, &w.supervisor, &own_id, "approve", &json!({})).await,
        403,
    )
    .await;
    let back = json!({"reason": "Check with the family first"});
    assert_problem(
        decide(&w, &w.supervisor, &own_id, "return", &back).await,
        403,
    )
    .await;
    let denied = app.audit_events("access.denied").await;
    assert!(denied.iter().any(|e| e["entity_id"] == own_id.as_str()));

    let colleague = app.signed_in(Role::CitySupervisor, &[w.city], None).await;
    let returned = decide(&w, &colleague, &own_id, "return", &back).await;
    assert_eq!(returned.status().as_u16(), 200);
    let returned: Value = returned.json().await.unwrap();
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["return_reason"], "Check with the family first");
    assert_eq!(case_status(&w).await, "open");
    // Returned: the worker may ask again.
    let again = ask(&w, &w.worker, &json!({"reason": "moved_abroad"})).await;
    assert_eq!(again.status().as_u16(), 201);
}

#[tokio::test]
async fn open_referrals_keep_a_case_open_and_are_named() {
    let w = world().await;
    let app = &w.app;
    let referral = refer(app, &w.worker, &w.case, w.org).await;
    let referral_id = id_of(&referral).to_string();

    let refused = assert_problem(
        ask(&w, &w.worker, &json!({"reason": "lost_contact"})).await,
        409,
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains(&referral_id),
        "{refused}"
    );
    // The supervisor's direct close is refused the same way.
    let close = app
        .post_as(
            &w.supervisor,
            &format!("/api/v1/cases/{}/close", w.case),
            &json!({"reason": "No contact for months"}),
        )
        .await;
    let refused = assert_problem(close, 409).await;
    assert!(refused["detail"].as_str().unwrap().contains(&referral_id));

    // Resolved (declined by the provider), the case can close.
    let declined = step(app, &w.provider, &referral_id, "decline", &json!({})).await;
    assert_eq!(declined.status().as_u16(), 200);
    let asked: Value = ask(&w, &w.worker, &json!({"reason": "lost_contact"}))
        .await
        .json()
        .await
        .unwrap();
    // A referral opened after the request still holds the approval back.
    let second = refer(app, &w.worker, &w.case, w.org).await;
    let refused = decide(&w, &w.supervisor, id_of(&asked), "approve", &json!({})).await;
    let refused = assert_problem(refused, 409).await;
    assert!(refused["detail"].as_str().unwrap().contains(id_of(&second)));
    step(app, &w.worker, id_of(&second), "cancel", &json!({})).await;
    let approved = decide(&w, &w.supervisor, id_of(&asked), "approve", &json!({})).await;
    assert_eq!(approved.status().as_u16(), 200);
    assert_eq!(case_status(&w).await, "closed");
}

#[tokio::test]
async fn a_direct_close_is_recorded_as_self_approved() {
    let w = world().await;
    let app = &w.app;
    let pending: Value = ask(&w, &w.worker, &json!({"reason": "deceased"}))
        .await
        .json()
        .await
        .unwrap();
    let closed = app
        .post_as(
            &w.supervisor,
            &format!("/api/v1/cases/{}/close", w.case),
            &json!({"reason": "Confirmed by the family"}),
        )
        .await;
    assert_eq!(closed.status().as_u16(), 200);
    let listed: Value = app
        .get_as(
            &w.supervisor,
            &format!("/api/v1/cases/{}/closure-requests", w.case),
        )
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"self_approved"), "{statuses:?}");
    let pending = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == pending["id"])
        .unwrap();
    assert_eq!(pending["status"], "approved");
    let events = app.audit_events("case.close").await;
    assert!(
        events.iter().any(|e| e["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("self-approved")),
        "{events:?}"
    );
}

#[tokio::test]
async fn other_cities_providers_and_national_roles_reach_no_closure_request() {
    let w = world().await;
    let app = &w.app;
    let asked: Value = ask(&w, &w.worker, &json!({"reason": "other"}))
        .await
        .json()
        .await
        .unwrap();
    let id = id_of(&asked).to_string();
    let basra = app.city("BAS");
    let stranger = app.signed_in(Role::CitySupervisor, &[basra], None).await;
    assert_problem(decide(&w, &stranger, &id, "approve", &json!({})).await, 404).await;
    let list = format!("/api/v1/cases/{}/closure-requests", w.case);
    assert_problem(app.get_as(&stranger, &list).await, 404).await;
    assert_problem(ask(&w, &stranger, &json!({"reason": "other"})).await, 404).await;
    assert_problem(app.get_as(&w.provider, &list).await, 403).await;
    for role in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
        let token = app.signed_in(role, &[], None).await;
        assert_problem(app.get_as(&token, &list).await, 403).await;
    }
}

#[tokio::test]
async fn a_pending_request_moves_with_a_transfer_and_is_gone_with_an_erasure() {
    let w = world().await;
    let app = &w.app;
    let asked: Value = ask(
        &w,
        &w.worker,
        &json!({"reason": "moved_abroad", "note": NOTE}),
    )
    .await
    .json()
    .await
    .unwrap();
    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let transfer: Value = app
        .post_as(
            &w.worker,
            &format!("/api/v1/cases/{}/transfers", w.case),
            &json!({"to_city_id": telafar, "reason": "Family moved"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accepted = app
        .post_as(
            &receiver,
            &format!("/api/v1/transfers/{}/accept", id_of(&transfer)),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    let list = format!("/api/v1/cases/{}/closure-requests", w.case);
    let moved: Value = app.get_as(&receiver, &list).await.json().await.unwrap();
    assert_eq!(moved[0]["note"], NOTE);
    assert_eq!(moved[0]["city_id"], telafar.to_string());
    assert_problem(
        decide(&w, &w.supervisor, id_of(&asked), "approve", &json!({})).await,
        404,
    )
    .await;

    let erased = app
        .post_as(
            &receiver,
            &format!("/api/v1/cases/{}/erase", w.case),
            &json!({"reason": "Asked to be forgotten"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);
    use diesel::prelude::*;
    let left: i64 = sanad::db::schema::closure_requests::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(left, 0);
}
