//! One-time enrolment codes and resets: nobody sets a password another
//! person will use, a code works once before it expires, and a reset ends
//! every session at once.

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{ENROLLED, assert_problem, spawn_app};

#[tokio::test]
async fn enrolment_codes_work_once_before_they_expire_and_say_nothing_of_the_account() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let made = app
        .create_account(
            &admin,
            &json!({"username": "audit.one", "display_name": "A", "role": "auditor"}),
        )
        .await;
    let code = made["enrolment_code"].as_str().unwrap().to_string();
    assert!(made["expires_at"].is_string());
    assert_eq!(made["user"]["approval"], "approved");

    let wrong = assert_problem(
        app.enrol("audit.one", "00112233445566778899aabbccddeeff", ENROLLED)
            .await,
        422,
    )
    .await;
    let nobody = assert_problem(app.enrol("no.such.user", &code, ENROLLED).await, 422).await;
    assert_eq!(wrong, nobody, "the same answer");
    assert_eq!(wrong["errors"][0]["field"], "enrolment_code");
    let weak = app.enrol("audit.one", &code, "password1234").await;
    assert_eq!(
        assert_problem(weak, 422).await["errors"][0]["field"],
        "new_password"
    );

    assert_eq!(
        app.enrol("audit.one", &code, ENROLLED)
            .await
            .status()
            .as_u16(),
        204
    );
    let reused = app
        .enrol("audit.one", &code, "another-fine-passphrase-9")
        .await;
    assert_eq!(
        assert_problem(reused, 422).await["errors"][0]["field"],
        "enrolment_code"
    );
    assert_eq!(
        app.login("audit.one", ENROLLED).await.status().as_u16(),
        200
    );

    // A code past its time.
    let late = app
        .create_account(
            &admin,
            &json!({"username": "audit.two", "display_name": "B", "role": "auditor"}),
        )
        .await;
    {
        use diesel::prelude::*;
        use sanad::db::schema::users;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
        diesel::update(users::table.filter(users::username.eq("audit.two")))
            .set(users::enrolment_expires_at.eq(Some(past)))
            .execute(&mut app.conn())
            .unwrap();
    }
    let expired = app
        .enrol(
            "audit.two",
            late["enrolment_code"].as_str().unwrap(),
            ENROLLED,
        )
        .await;
    assert_eq!(
        assert_problem(expired, 422).await["errors"][0]["field"],
        "enrolment_code"
    );
    assert_problem(app.login("audit.two", ENROLLED).await, 401).await;
}

#[tokio::test]
async fn a_reset_ends_every_session_at_once_and_its_code_waits_for_a_second_person() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let supervisor = app.signed_in(Role::CitySupervisor, &[city], None).await;
    let worker = app.user(Role::SocialWorker, &[city], None);
    let token = app.token(&worker).await;

    let reset = app
        .post_as(
            &admin,
            &format!("/api/v1/users/{}/reset", worker.id),
            &json!({}),
        )
        .await;
    let reset: Value = reset.json().await.unwrap();
    assert!(reset["enrolment_code"].is_null(), "{reset}");
    assert_eq!(reset["user"]["enrolled"], false);
    assert_eq!(reset["user"]["pending_grant"]["kind"], "reset");
    assert_problem(app.get_as(&token, "/api/v1/me").await, 401).await;
    assert_problem(app.login(&worker.username, &worker.password).await, 401).await;

    app.approve_and_enrol(&supervisor, &worker.id, &worker.username)
        .await;
    app.token_of(&worker.username, ENROLLED).await;

    // An account that sees no one is given its code at once.
    let auditor = app.user(Role::Auditor, &[], None);
    let reset: Value = app
        .post_as(
            &admin,
            &format!("/api/v1/users/{}/reset", auditor.id),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(reset["enrolment_code"].is_string());
}
