//! Separation of duties: nobody administers their own account, no account
//! moves between the roles that see people and those that do not, and a
//! widening of an account that sees people waits for a second person while
//! a narrowing applies at once.

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn nobody_changes_their_own_role_cities_organisation_or_active_flag() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let admin = app.user(Role::Admin, &[], None);
    let token = app.token(&admin).await;
    let own = format!("/api/v1/users/{}", admin.id);

    // The demo admin's escalation of issue 19: itself a social worker.
    for body in [
        json!({"role": "social_worker", "city_ids": [city]}),
        json!({"city_ids": [city]}),
        json!({"active": false}),
        json!({"display_name": "Still me"}),
    ] {
        assert_problem(app.patch_as(&token, &own, &body).await, 403).await;
    }
    assert_problem(
        app.post_as(&token, &format!("{own}/reset"), &json!({}))
            .await,
        403,
    )
    .await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "admin", "nothing changed");
    assert!(app.audit_events("access.denied").await.len() >= 5);
}

#[tokio::test]
async fn no_account_moves_between_the_roles_that_see_people_and_the_others() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let auditor = app.user(Role::Auditor, &[], None);
    let worker = app.user(Role::SocialWorker, &[city], None);

    let up = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", auditor.id),
            &json!({"role": "social_worker", "city_ids": [city]}),
        )
        .await;
    assert_eq!(assert_problem(up, 422).await["errors"][0]["field"], "role");
    let down = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", worker.id),
            &json!({"role": "admin", "city_ids": []}),
        )
        .await;
    assert_eq!(
        assert_problem(down, 422).await["errors"][0]["field"],
        "role"
    );
    // Between roles that see no one: at once.
    let moved = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", auditor.id),
            &json!({"role": "ministry_official"}),
        )
        .await;
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["role"], "ministry_official");
    assert!(moved["pending_grant"].is_null());
}

#[tokio::test]
async fn a_widening_waits_while_a_narrowing_applies_at_once() {
    let app = spawn_app().await;
    let (mosul, erbil) = (app.city("MOS"), app.city("ERB"));
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let worker = app.user(Role::SocialWorker, &[mosul], None);
    let token = app.token(&worker).await;
    let path = format!("/api/v1/users/{}", worker.id);

    let asked: Value = app
        .patch_as(
            &admin,
            &path,
            &json!({"city_ids": [mosul, erbil], "role": "city_supervisor"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked["role"], "social_worker", "not applied");
    assert_eq!(asked["pending_grant"]["kind"], "change");
    assert_eq!(asked["pending_grant"]["role"], "city_supervisor");
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(
        me["city_ids"],
        json!([mosul]),
        "the session goes on unchanged"
    );
    let again = app
        .patch_as(&admin, &path, &json!({"city_ids": [erbil]}))
        .await;
    assert_problem(again, 409).await;

    // A worker made a supervisor gains in both cities: Erbil's supervisor
    // alone cannot decide it.
    let erbil_only = app.signed_in(Role::CitySupervisor, &[erbil], None).await;
    let grant = app.pending_grant(&admin, &worker.id).await;
    assert_problem(
        app.decide(&erbil_only, &worker.id, "approve", &grant).await,
        404,
    )
    .await;
    let both = app
        .signed_in(Role::CitySupervisor, &[mosul, erbil], None)
        .await;
    app.approve(&both, &worker.id).await;
    assert_problem(app.get_as(&token, "/api/v1/me").await, 401).await;
    let token = app.token(&worker).await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "city_supervisor");

    // Taking access away needs no one.
    let narrowed: Value = app
        .patch_as(
            &admin,
            &path,
            &json!({"city_ids": [mosul], "role": "social_worker"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["role"], "social_worker");
    assert!(narrowed["pending_grant"].is_null());
    assert_problem(app.get_as(&token, "/api/v1/me").await, 401).await;
}
