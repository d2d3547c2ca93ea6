//! Accounts no one can abuse, through the API: no one sets a password
//! another person will use, an account that can see people (or a widening
//! of one) waits for a second person, nobody administers their own account,
//! and every grant and decision is in the audit log.

use sanad::domain::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::helpers::{ENROLLED, assert_problem, spawn_app};

fn worker_in(cities: &[&sanad::domain::CityId]) -> Value {
    json!({"username": "amina.k", "display_name": "Amina K.", "role": "social_worker", "city_ids": cities})
}

#[tokio::test]
async fn an_admin_made_social_worker_signs_in_only_after_a_supervisor_of_its_city_approves() {
    let app = spawn_app().await;
    let (mosul, erbil) = (app.city("MOS"), app.city("ERB"));
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let elsewhere = app.signed_in(Role::CitySupervisor, &[erbil], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;

    // No password an admin could choose: the field does not exist.
    let with_password = app
        .post_as(&admin, "/api/v1/users", &json!({"username": "amina.k", "display_name": "A", "role": "social_worker", "city_ids": [mosul], "password": "olive-tree-lantern-5"}))
        .await;
    assert_eq!(
        assert_problem(with_password, 422).await["errors"][0]["field"],
        "password"
    );
    let made = app.create_account(&admin, &worker_in(&[&mosul])).await;
    let id = made["user"]["id"].as_str().unwrap().to_string();
    assert!(made["enrolment_code"].is_null(), "the admin gets no code");
    assert_eq!(made["user"]["approval"], "pending");
    assert_eq!(made["user"]["enrolled"], false);
    assert_eq!(made["user"]["pending_grant"]["approver"], "city_supervisor");
    assert_problem(app.login("amina.k", "olive-tree-lantern-5").await, 401).await;

    // Another city's supervisor neither sees it nor decides it.
    let listed: Value = app
        .get_as(&elsewhere, "/api/v1/users?pending=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let grant = app.pending_grant(&admin, &id).await;
    assert_problem(app.decide(&elsewhere, &id, "approve", &grant).await, 404).await;
    // The admin who asked cannot decide it either.
    assert_problem(app.decide(&admin, &id, "approve", &grant).await, 403).await;

    let listed: Value = app
        .get_as(&supervisor, "/api/v1/users?pending=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let approved = app.approve(&supervisor, &id).await;
    assert_eq!(approved["user"]["approval"], "approved");
    let code = approved["enrolment_code"].as_str().unwrap();
    assert_eq!(code.len(), 32);
    assert_problem(app.login("amina.k", ENROLLED).await, 401).await;

    assert_eq!(
        app.enrol("amina.k", code, ENROLLED).await.status().as_u16(),
        204
    );
    let token = app.token_of("amina.k", ENROLLED).await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "social_worker");
    assert_eq!(me["city_ids"], json!([mosul]));
}

#[tokio::test]
async fn a_grant_concerning_several_cities_needs_a_supervisor_of_every_one() {
    let app = spawn_app().await;
    let (mosul, erbil) = (app.city("MOS"), app.city("ERB"));
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let one = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let both = app
        .signed_in(Role::CitySupervisor, &[mosul, erbil], None)
        .await;
    let made = app
        .create_account(&admin, &worker_in(&[&mosul, &erbil]))
        .await;
    let id = made["user"]["id"].as_str().unwrap();
    let grant = app.pending_grant(&admin, id).await;

    assert_problem(app.decide(&one, id, "approve", &grant).await, 404).await;
    assert_problem(app.get_as(&one, &format!("/api/v1/users/{id}")).await, 404).await;
    let approved = app.approve(&both, id).await;
    assert!(approved["enrolment_code"].is_string());
}

#[tokio::test]
async fn a_supervisor_cannot_approve_a_grant_to_themself_nor_an_admin_their_own_request() {
    let app = spawn_app().await;
    let (mosul, erbil) = (app.city("MOS"), app.city("ERB"));
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let supervisor = app.user(Role::CitySupervisor, &[mosul], None);
    let token = app.token(&supervisor).await;

    // Erbil added to the supervisor's own account waits for Erbil's
    // supervisor.
    let widened = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", supervisor.id),
            &json!({"city_ids": [mosul, erbil]}),
        )
        .await;
    assert_eq!(widened.status().as_u16(), 200);
    let grant = app.pending_grant(&admin, &supervisor.id).await;
    // Arranged: the supervisor holds Erbil by some other way already, so
    // only the rule on their own account stands in the way.
    {
        use diesel::prelude::*;
        use sanad::db::schema::user_cities;
        diesel::insert_into(user_cities::table)
            .values((
                user_cities::user_id.eq(&supervisor.id),
                user_cities::city_id.eq(erbil.to_string()),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    assert_problem(
        app.decide(&token, &supervisor.id, "approve", &grant).await,
        403,
    )
    .await;
    let denied = app.audit_events("access.denied").await;
    assert!(
        denied
            .iter()
            .any(|e| e["entity_id"] == supervisor.id.as_str())
    );
    let other = app.signed_in(Role::CitySupervisor, &[erbil], None).await;
    assert_eq!(
        app.decide(&other, &supervisor.id, "approve", &grant)
            .await
            .status()
            .as_u16(),
        200
    );

    // Provider staff: another admin decides, never the one who asked.
    let org = app.organisation(OrganisationKind::Psychosocial, mosul);
    let made = app
        .create_account(&admin, &json!({"username": "psy.one", "display_name": "P", "role": "provider_staff", "organisation_id": org}))
        .await;
    let id = made["user"]["id"].as_str().unwrap();
    assert_eq!(made["user"]["pending_grant"]["approver"], "admin");
    let grant = app.pending_grant(&admin, id).await;
    assert_problem(app.decide(&admin, id, "approve", &grant).await, 403).await;
    let second_admin = app.signed_in(Role::Admin, &[], None).await;
    let approved = app.approve(&second_admin, id).await;
    assert!(approved["enrolment_code"].is_string());
}

#[tokio::test]
async fn deciding_an_unknown_or_decided_request_is_422_naming_it_and_changes_nothing() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let org = app.organisation(OrganisationKind::Education, city);
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let second = app.signed_in(Role::Admin, &[], None).await;
    let made = app
        .create_account(&admin, &json!({"username": "edu.one", "display_name": "E", "role": "provider_staff", "organisation_id": org}))
        .await;
    let id = made["user"]["id"].as_str().unwrap();
    let grant = app.pending_grant(&admin, id).await;

    let unknown = app
        .decide(&second, id, "approve", &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(
        assert_problem(unknown, 422).await["errors"][0]["field"],
        "request_id"
    );
    assert_eq!(app.pending_grant(&admin, id).await, grant, "still waiting");

    let rejected = app.decide(&second, id, "reject", &grant).await;
    let rejected: Value = rejected.json().await.unwrap();
    assert_eq!(rejected["approval"], "rejected");
    assert_eq!(rejected["active"], false);
    for verb in ["approve", "reject"] {
        let again = app.decide(&second, id, verb, &grant).await;
        assert_eq!(
            assert_problem(again, 422).await["errors"][0]["field"],
            "request_id"
        );
    }
    let user: Value = app
        .get_as(&admin, &format!("/api/v1/users/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["approval"], "rejected", "nothing changed");
}

#[tokio::test]
async fn every_grant_approval_rejection_and_reset_is_an_event_auditors_read() {
    let app = spawn_app().await;
    let (mosul, erbil) = (app.city("MOS"), app.city("ERB"));
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let supervisor = app
        .signed_in(Role::CitySupervisor, &[mosul, erbil], None)
        .await;
    let made = app.create_account(&admin, &worker_in(&[&mosul])).await;
    let id = made["user"]["id"].as_str().unwrap().to_string();
    app.approve(&supervisor, &id).await;
    app.patch_as(
        &admin,
        &format!("/api/v1/users/{id}"),
        &json!({"city_ids": [mosul, erbil]}),
    )
    .await;
    let grant = app.pending_grant(&admin, &id).await;
    app.decide(&supervisor, &id, "reject", &grant).await;
    app.post_as(&admin, &format!("/api/v1/users/{id}/reset"), &json!({}))
        .await;

    for action in [
        "user.create",
        "user.approve",
        "user.grant",
        "user.reject",
        "user.reset",
    ] {
        let events = app.audit_events(action).await;
        let event = events
            .iter()
            .find(|e| e["entity_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no {action} event"));
        assert!(event["actor_id"].is_string(), "{action}: {event}");
        assert!(!event.to_string().contains("amina"), "no username: {event}");
    }
}

#[tokio::test]
async fn the_command_line_makes_the_first_admin_only_and_approves_the_first_supervisors() {
    let app = spawn_app().await;
    let first = app.sanad(
        &[
            "user",
            "create",
            "--username",
            "first-admin",
            "--role",
            "admin",
        ],
        "granite-harbour-sky-8\n",
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(!String::from_utf8_lossy(&first.stdout).contains("granite"));
    let second = app.sanad(
        &[
            "user",
            "create",
            "--username",
            "second-admin",
            "--role",
            "admin",
        ],
        "granite-harbour-sky-9\n",
    );
    assert!(
        !second.status.success(),
        "a second admin is made through the API"
    );
    let worker = app.sanad(
        &[
            "user",
            "create",
            "--username",
            "w",
            "--role",
            "social_worker",
        ],
        "granite-harbour-sky-9\n",
    );
    assert!(!worker.status.success());

    let city = app.city("MOS");
    let admin = app.token_of("first-admin", "granite-harbour-sky-8").await;
    let made = app
        .create_account(&admin, &json!({"username": "first.supervisor", "display_name": "S", "role": "city_supervisor", "city_ids": [city]}))
        .await;
    let approved = app.sanad(&["user", "approve", "--username", "first.supervisor"], "");
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    let printed = String::from_utf8_lossy(&approved.stdout);
    let code = printed
        .split_whitespace()
        .find(|word| word.len() == 32 && word.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no code in {printed}"));
    assert_eq!(
        app.enrol("first.supervisor", code, ENROLLED)
            .await
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        app.login("first.supervisor", ENROLLED)
            .await
            .status()
            .as_u16(),
        200
    );
    let again = app.sanad(&["user", "approve", "--username", "first.supervisor"], "");
    assert!(!again.status.success(), "nothing waits any more");

    let events = app.audit_events("user.approve").await;
    let by_operator = events
        .iter()
        .find(|e| e["entity_id"] == made["user"]["id"])
        .expect("the operator's approval");
    assert!(by_operator["actor_id"].is_null());
    assert!(
        by_operator["detail"]
            .as_str()
            .unwrap()
            .contains("command line")
    );
}
