//! Plans: goals by dimension with actions, drafted, submitted, approved by
//! a city supervisor who did not write them (or returned), revised into a
//! new version that is approved again; one active plan a case; an active
//! plan with actions to do holds the case open; text sealed; moved with a
//! transfer and destroyed by erasure.

use diesel::prelude::*;
use sanad::db::schema::{plan_actions, plan_goals, plans};
use sanad::domain::{CityId, Role};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, contains, create, database_bytes, id_of, new_case, spawn_app,
};

const GOAL: &str = "دخل منتظم خلال ستة أشهر";
const ACTION: &str = "دورة خياطة في مركز التدريب";

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    supervisor: String,
    case: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let case = id_of(&create(&app, &worker, &new_case(city, "أسماء يوسف")).await).to_string();
    World {
        app,
        city,
        worker,
        supervisor,
        case,
    }
}

fn plan_body() -> Value {
    json!({"goals": [
        {"dimension": "economic", "text": GOAL,
         "actions": [{"text": ACTION, "target_date": "2099-03-01"}]},
        {"dimension": "protection", "text": "Civil documents for the children"}
    ]})
}

async fn post(w: &World, token: &str, path: &str, body: &Value) -> reqwest::Response {
    w.app.post_as(token, path, body).await
}

#[tokio::test]
async fn a_plan_is_drafted_submitted_approved_revised_and_approved_again() {
    let w = world().await;
    let app = &w.app;
    let plans_path = format!("/api/v1/cases/{}/plans", w.case);
    let made = post(&w, &w.worker, &plans_path, &plan_body()).await;
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["status"], "draft");
    assert_eq!(made["version"], 1);
    assert_eq!(made["goals"][0]["text"], GOAL);
    assert_eq!(made["goals"][0]["actions"][0]["text"], ACTION);
    assert_eq!(made["goals"][0]["actions"][0]["status"], "planned");
    assert!(!contains(&database_bytes(&app.db), GOAL));
    assert!(!contains(&database_bytes(&app.db), ACTION));
    let v1 = id_of(&made).to_string();
    // One version at a time; a blank goal names its field.
    assert_problem(post(&w, &w.worker, &plans_path, &plan_body()).await, 409).await;

    // Approval needs a submitted plan and someone who did not write it.
    let approve = format!("/api/v1/plans/{v1}/approve");
    assert_problem(post(&w, &w.supervisor, &approve, &json!({})).await, 409).await;
    let submitted = post(
        &w,
        &w.worker,
        &format!("/api/v1/plans/{v1}/submit"),
        &json!({}),
    )
    .await;
    assert_eq!(submitted.status().as_u16(), 200);
    assert_problem(post(&w, &w.worker, &approve, &json!({})).await, 403).await;
    let approved = post(&w, &w.supervisor, &approve, &json!({})).await;
    assert_eq!(approved.status().as_u16(), 200);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert!(approved["decided_by"].is_string());

    // The active plan's actions move along; an active plan with actions to
    // do holds the case open.
    let action = approved["goals"][0]["actions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let action_path = format!("/api/v1/plans/{v1}/actions/{action}");
    let moved = app
        .client
        .patch(app.url(&action_path))
        .bearer_auth(&w.worker)
        .json(&json!({"status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 200);
    let close = format!("/api/v1/cases/{}/close", w.case);
    let held = post(&w, &w.supervisor, &close, &json!({"reason": "Done"})).await;
    let held = assert_problem(held, 409).await;
    assert!(held["detail"].as_str().unwrap().contains(&v1), "{held}");

    // Revising drafts version 2 from version 1; version 1 stays active
    // until version 2 is approved, then is superseded, kept with its
    // approver.
    let revised = post(
        &w,
        &w.worker,
        &format!("/api/v1/plans/{v1}/revise"),
        &json!({}),
    )
    .await;
    assert_eq!(revised.status().as_u16(), 201);
    let revised: Value = revised.json().await.unwrap();
    assert_eq!(revised["version"], 2);
    assert_eq!(revised["previous_id"], v1.as_str());
    assert_eq!(revised["goals"][0]["text"], GOAL);
    let v2 = id_of(&revised).to_string();
    post(
        &w,
        &w.worker,
        &format!("/api/v1/plans/{v2}/submit"),
        &json!({}),
    )
    .await;
    let back = post(
        &w,
        &w.supervisor,
        &format!("/api/v1/plans/{v2}/return"),
        &json!({"reason": "Add a school goal"}),
    )
    .await;
    assert_eq!(back.status().as_u16(), 200);
    let back: Value = back.json().await.unwrap();
    assert_eq!(back["status"], "returned");
    assert_eq!(back["return_reason"], "Add a school goal");
    let v3: Value = post(
        &w,
        &w.worker,
        &format!("/api/v1/plans/{v2}/revise"),
        &json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    let v3 = id_of(&v3).to_string();
    post(
        &w,
        &w.worker,
        &format!("/api/v1/plans/{v3}/submit"),
        &json!({}),
    )
    .await;
    let approved = post(
        &w,
        &w.supervisor,
        &format!("/api/v1/plans/{v3}/approve"),
        &json!({}),
    )
    .await;
    assert_eq!(approved.status().as_u16(), 200);

    let listed: Value = app
        .get_as(&w.worker, &plans_path)
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["approved", "returned", "superseded"]);
    assert!(listed[2]["decided_by"].is_string());

    // Found under the person in the audit log, with no text.
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
    for action in [
        "plan.create",
        "plan.submit",
        "plan.approve",
        "plan.return",
        "plan.list",
        "plan.action_update",
    ] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    assert!(!about.to_string().contains(GOAL));
}

#[tokio::test]
async fn other_cities_and_other_roles_reach_no_plan_and_blank_text_is_refused() {
    let w = world().await;
    let app = &w.app;
    let plans_path = format!("/api/v1/cases/{}/plans", w.case);
    let blank = json!({"goals": [{"dimension": "social", "text": "  "}]});
    let refused = assert_problem(post(&w, &w.worker, &plans_path, &blank).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "goals[0].text");
    let made: Value = post(&w, &w.worker, &plans_path, &plan_body())
        .await
        .json()
        .await
        .unwrap();
    let id = id_of(&made).to_string();
    let basra = app.city("BAS");
    let stranger = app.signed_in(Role::CitySupervisor, &[basra], None).await;
    assert_problem(app.get_as(&stranger, &plans_path).await, 404).await;
    let submit = format!("/api/v1/plans/{id}/submit");
    assert_problem(post(&w, &stranger, &submit, &json!({})).await, 404).await;
    for role in [Role::MinistryOfficial, Role::Auditor, Role::Admin] {
        let token = app.signed_in(role, &[], None).await;
        assert_problem(app.get_as(&token, &plans_path).await, 403).await;
    }
    let _ = w.city;
}

#[tokio::test]
async fn plans_move_resealed_with_a_transfer_and_are_destroyed_by_erasure() {
    let w = world().await;
    let app = &w.app;
    let plans_path = format!("/api/v1/cases/{}/plans", w.case);
    post(&w, &w.worker, &plans_path, &plan_body()).await;
    let telafar = app.city("TAF");
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let transfer: Value = post(
        &w,
        &w.worker,
        &format!("/api/v1/cases/{}/transfers", w.case),
        &json!({"to_city_id": telafar, "reason": "Family moved"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let accepted = post(
        &w,
        &receiver,
        &format!("/api/v1/transfers/{}/accept", id_of(&transfer)),
        &json!({}),
    )
    .await;
    assert_eq!(accepted.status().as_u16(), 200);
    let moved: Value = app
        .get_as(&receiver, &plans_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved[0]["city_id"], telafar.to_string());
    assert_eq!(moved[0]["goals"][0]["actions"][0]["text"], ACTION);

    let erased = post(
        &w,
        &receiver,
        &format!("/api/v1/cases/{}/erase", w.case),
        &json!({"reason": "Asked to be forgotten"}),
    )
    .await;
    assert_eq!(erased.status().as_u16(), 204);
    let mut conn = app.conn();
    let left: i64 = plans::table.count().get_result(&mut conn).unwrap();
    let goals: i64 = plan_goals::table.count().get_result(&mut conn).unwrap();
    let actions: i64 = plan_actions::table.count().get_result(&mut conn).unwrap();
    assert_eq!((left, goals, actions), (0, 0, 0));
}
