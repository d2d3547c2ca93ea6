//! Follow-ups: contacts scheduled with a due date and a worker of the
//! case's city, ended once (done with a sealed note, missed, cancelled);
//! the system's referral check after a referral is completed or declined.

use sanad::domain::{CityId, OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_problem, contains, create, database_bytes, id_of, new_case, refer, spawn_app,
    step,
};

const NOTE: &str = "زيارة منزلية: الأطفال في المدرسة والأم تبحث عن عمل";

struct World {
    app: TestApp,
    city: CityId,
    worker: String,
    case: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.signed_in(Role::SocialWorker, &[city], None).await;
    let case = id_of(&create(&app, &worker, &new_case(city, "رقية عباس")).await).to_string();
    World {
        app,
        city,
        worker,
        case,
    }
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

async fn schedule(w: &World, token: &str, body: &Value) -> reqwest::Response {
    w.app
        .post_as(token, &format!("/api/v1/cases/{}/follow-ups", w.case), body)
        .await
}

async fn patch(w: &World, token: &str, id: &str, body: &Value) -> reqwest::Response {
    w.app
        .client
        .patch(w.app.url(&format!("/api/v1/follow-ups/{id}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_visit_is_scheduled_done_once_with_a_sealed_note() {
    let w = world().await;
    let app = &w.app;
    let made = schedule(
        &w,
        &w.worker,
        &json!({"kind": "home_visit", "due_on": in_days(3)}),
    )
    .await;
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["status"], "scheduled");
    assert_eq!(made["overdue"], false);
    let id = id_of(&made).to_string();

    // A past date, an unknown kind, a note without done: 422 naming each.
    let past = schedule(
        &w,
        &w.worker,
        &json!({"kind": "phone_call", "due_on": in_days(-1)}),
    )
    .await;
    assert_eq!(
        assert_problem(past, 422).await["errors"][0]["field"],
        "due_on"
    );
    let kind = schedule(
        &w,
        &w.worker,
        &json!({"kind": "letter", "due_on": in_days(1)}),
    )
    .await;
    assert_eq!(
        assert_problem(kind, 422).await["errors"][0]["field"],
        "kind"
    );
    let early = patch(&w, &w.worker, &id, &json!({"note": NOTE})).await;
    assert_eq!(
        assert_problem(early, 422).await["errors"][0]["field"],
        "note"
    );

    // Rescheduled while scheduled, to a colleague of the city.
    let colleague = app.user(Role::SocialWorker, &[w.city], None);
    let moved = patch(
        &w,
        &w.worker,
        &id,
        &json!({"due_on": in_days(5), "assigned_to": colleague.id}),
    )
    .await;
    assert_eq!(moved.status().as_u16(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["assigned_to"], colleague.id.as_str());
    // Someone of another city cannot be assigned.
    let basra = app.city("BAS");
    let outsider = app.user(Role::SocialWorker, &[basra], None);
    let refused = patch(&w, &w.worker, &id, &json!({"assigned_to": outsider.id})).await;
    assert_eq!(
        assert_problem(refused, 422).await["errors"][0]["field"],
        "assigned_to"
    );

    let done = patch(&w, &w.worker, &id, &json!({"status": "done", "note": NOTE})).await;
    assert_eq!(done.status().as_u16(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(done["note"], NOTE);
    assert!(done["ended_at"].is_string());
    assert!(!contains(&database_bytes(&app.db), NOTE));
    // Ended once.
    assert_problem(
        patch(&w, &w.worker, &id, &json!({"status": "missed"})).await,
        409,
    )
    .await;

    let listed: Value = app
        .get_as(&w.worker, &format!("/api/v1/cases/{}/follow-ups", w.case))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["note"], NOTE);

    // Every read and write is found under the person, with no note.
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
    for action in ["follow_up.create", "follow_up.update", "follow_up.list"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    assert!(!about.to_string().contains(NOTE));
}

#[tokio::test]
async fn a_completed_or_declined_referral_schedules_a_referral_check() {
    let w = world().await;
    let app = &w.app;
    let org = app.organisation(OrganisationKind::Psychosocial, w.city);
    let provider = app.signed_in(Role::ProviderStaff, &[], Some(org)).await;
    let first = refer(app, &w.worker, &w.case, org).await;
    for name in ["accept", "start"] {
        step(app, &provider, id_of(&first), name, &json!({})).await;
    }
    let done = step(
        app,
        &provider,
        id_of(&first),
        "complete",
        &json!({"outcome": "completed_successfully"}),
    )
    .await;
    assert_eq!(done.status().as_u16(), 200);
    let second = refer(app, &w.worker, &w.case, org).await;
    step(app, &provider, id_of(&second), "decline", &json!({})).await;
    // A cancelled one schedules nothing.
    let third = refer(app, &w.worker, &w.case, org).await;
    step(app, &w.worker, id_of(&third), "cancel", &json!({})).await;

    let listed: Value = app
        .get_as(&w.worker, &format!("/api/v1/cases/{}/follow-ups", w.case))
        .await
        .json()
        .await
        .unwrap();
    let checks: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "referral_check")
        .collect();
    assert_eq!(checks.len(), 2, "{listed}");
    for check in &checks {
        assert_eq!(check["due_on"], in_days(14), "the default setting");
        assert_eq!(check["created_by"], Value::Null);
        assert_eq!(check["status"], "scheduled");
    }
    let mut referrals: Vec<&str> = checks
        .iter()
        .map(|c| c["referral_id"].as_str().unwrap())
        .collect();
    referrals.sort();
    let mut expected = vec![id_of(&first), id_of(&second)];
    expected.sort();
    assert_eq!(referrals, expected);
}

#[tokio::test]
async fn other_cities_providers_and_national_roles_reach_no_follow_up() {
    let w = world().await;
    let app = &w.app;
    let made: Value = schedule(
        &w,
        &w.worker,
        &json!({"kind": "phone_call", "due_on": in_days(1)}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = id_of(&made).to_string();
    let basra = app.city("BAS");
    let stranger = app.signed_in(Role::SocialWorker, &[basra], None).await;
    assert_problem(
        patch(&w, &stranger, &id, &json!({"status": "cancelled"})).await,
        404,
    )
    .await;
    let list = format!("/api/v1/cases/{}/follow-ups", w.case);
    assert_problem(app.get_as(&stranger, &list).await, 404).await;
    for role in [
        Role::ProviderStaff,
        Role::MinistryOfficial,
        Role::Auditor,
        Role::Admin,
    ] {
        let org = (role == Role::ProviderStaff)
            .then(|| app.organisation(OrganisationKind::Health, w.city));
        let token = app.signed_in(role, &[], org).await;
        assert_problem(app.get_as(&token, &list).await, 403).await;
    }
    let denied = app.audit_events("access.denied").await;
    assert!(denied.iter().any(|e| e["entity_id"] == id.as_str()));
}
