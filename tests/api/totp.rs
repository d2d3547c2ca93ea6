//! The second factor (TOTP): required of some roles by a setting, optional
//! for the others; enrolled with an `otpauth://` URI and a first code; each
//! code works once; the secret is sealed; failures count in the throttle;
//! an admin reset takes it off.

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{
    ENROLLED, TestApp, TestDatabase, TestUser, assert_problem, contains, database_bytes, spawn_app,
    spawn_app_with, totp_code,
};

async fn requiring_a_second_factor() -> TestApp {
    spawn_app_with(TestDatabase::create(), |s| {
        s.auth.totp_required_roles = vec![
            Role::Admin,
            Role::Auditor,
            Role::CitySupervisor,
            Role::MinistryOfficial,
        ];
    })
    .await
}

/// `POST /me/totp/confirm` with this code.
async fn confirm(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_as(
        token,
        "/api/v1/me/totp/confirm",
        &json!({"totp_code": code}),
    )
    .await
}

/// Enrols and confirms a second factor for `user`: its base32 secret.
async fn turn_on(app: &TestApp, user: &TestUser) -> String {
    let token = app.token(user).await;
    let begun = app.post_as(&token, "/api/v1/me/totp", &json!({})).await;
    assert_eq!(begun.status().as_u16(), 200);
    let begun: Value = begun.json().await.unwrap();
    let secret = begun["secret"].as_str().unwrap().to_string();
    let code = totp_code(&secret, &user.username, 0);
    let confirmed = confirm(app, &token, &code).await;
    assert_eq!(confirmed.status().as_u16(), 204);
    secret
}

#[tokio::test]
async fn a_role_that_needs_a_second_factor_gets_no_token_without_a_valid_code_and_a_code_works_once()
 {
    let app = requiring_a_second_factor().await;
    let admin = app.user(Role::Admin, &[], None);

    // Until it has one, the account may only enrol it.
    let token = app.token(&admin).await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["totp_required"], true);
    assert_eq!(me["totp_enabled"], false);
    let refused = assert_problem(app.get_as(&token, "/api/v1/users").await, 403).await;
    assert_eq!(refused["type"], "urn:sanad:problem:second-factor-required");
    assert_eq!(
        app.get_as(&token, "/api/v1/cities").await.status().as_u16(),
        200
    );

    let begun: Value = app
        .post_as(&token, "/api/v1/me/totp", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let uri = begun["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Sanad:"), "{uri}");
    let secret = begun["secret"].as_str().unwrap().to_string();
    assert!(uri.contains(&format!("secret={secret}")));
    let wrong = confirm(&app, &token, "000000").await;
    let wrong = assert_problem(wrong, 422).await;
    assert_eq!(wrong["errors"][0]["field"], "totp_code");
    let code = totp_code(&secret, &admin.username, 0);
    let confirmed = confirm(&app, &token, &code).await;
    assert_eq!(confirmed.status().as_u16(), 204);
    assert_problem(app.get_as(&token, "/api/v1/me").await, 401).await;

    // From now on: no code, a wrong code, a used code: 401 naming the code.
    let missing = assert_problem(app.login(&admin.username, &admin.password).await, 401).await;
    assert_eq!(missing["errors"][0]["field"], "totp_code");
    let other = if code == "123456" { "654321" } else { "123456" };
    let bad = app
        .login_with_code(&admin.username, &admin.password, other)
        .await;
    assert_eq!(
        assert_problem(bad, 401).await["errors"][0]["field"],
        "totp_code"
    );
    let used = app
        .login_with_code(&admin.username, &admin.password, &code)
        .await;
    assert_problem(used, 401).await;
    // The next step's code (the app's clock a little ahead) works, once.
    let next = totp_code(&secret, &admin.username, 30);
    let signed_in = app
        .login_with_code(&admin.username, &admin.password, &next)
        .await;
    assert_eq!(signed_in.status().as_u16(), 200);
    let pair: Value = signed_in.json().await.unwrap();
    let token = pair["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_as(token, "/api/v1/users").await.status().as_u16(),
        200
    );
    let again = app
        .login_with_code(&admin.username, &admin.password, &next)
        .await;
    assert_problem(again, 401).await;
    // A wrong password with a right code says nothing of the code.
    let later = totp_code(&secret, &admin.username, 60);
    let wrong_password = app
        .login_with_code(&admin.username, "not-it-at-all-9", &later)
        .await;
    assert!(
        assert_problem(wrong_password, 401)
            .await
            .get("errors")
            .is_none()
    );
}

#[tokio::test]
async fn the_secret_is_sealed_and_an_optional_second_factor_once_on_is_required() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let worker = app.user(Role::SocialWorker, &[city], None);
    let token = app.token(&worker).await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["totp_required"], false);

    let secret = turn_on(&app, &worker).await;

    let stored = database_bytes(&app.db);
    assert!(!contains(&stored, &secret), "the secret is sealed");
    let missing = app.login(&worker.username, &worker.password).await;
    assert_eq!(
        assert_problem(missing, 401).await["errors"][0]["field"],
        "totp_code"
    );
    let code = totp_code(&secret, &worker.username, 30);
    let token = app
        .login_with_code(&worker.username, &worker.password, &code)
        .await;
    assert_eq!(token.status().as_u16(), 200);
    let token: Value = token.json().await.unwrap();
    let again = app
        .post_as(
            token["access_token"].as_str().unwrap(),
            "/api/v1/me/totp",
            &json!({}),
        )
        .await;
    assert_problem(again, 409).await;
}

#[tokio::test]
async fn wrong_codes_count_in_the_login_throttle() {
    let app = spawn_app().await;
    let auditor = app.user(Role::Auditor, &[], None);
    let secret = turn_on(&app, &auditor).await;
    for _ in 0..5 {
        let wrong = app
            .login_with_code(&auditor.username, &auditor.password, "000000")
            .await;
        assert_eq!(wrong.status().as_u16(), 401);
    }
    let code = totp_code(&secret, &auditor.username, 30);
    let throttled = app
        .login_with_code(&auditor.username, &auditor.password, &code)
        .await;
    assert_eq!(throttled.status().as_u16(), 429);
}

#[tokio::test]
async fn recovery_is_an_admin_reset_which_takes_the_second_factor_off() {
    let app = requiring_a_second_factor().await;
    let city = app.city("MOS");
    let supervisor = app.user(Role::CitySupervisor, &[city], None);
    let supervisor_secret = turn_on(&app, &supervisor).await;
    let worker = app.user(Role::SocialWorker, &[city], None);
    turn_on(&app, &worker).await;
    let admin = app.user(Role::Admin, &[], None);
    let admin_secret = turn_on(&app, &admin).await;
    let code = totp_code(&admin_secret, &admin.username, 30);
    let admin_token = app
        .login_with_code(&admin.username, &admin.password, &code)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let reset = app
        .post_as(
            &admin_token,
            &format!("/api/v1/users/{}/reset", worker.id),
            &json!({}),
        )
        .await;
    assert_eq!(reset.status().as_u16(), 200);
    let code = totp_code(&supervisor_secret, &supervisor.username, 30);
    let supervisor_token: Value = app
        .login_with_code(&supervisor.username, &supervisor.password, &code)
        .await
        .json()
        .await
        .unwrap();
    let supervisor_token = supervisor_token["access_token"].as_str().unwrap();
    app.approve_and_enrol(supervisor_token, &worker.id, &worker.username)
        .await;
    // The second factor is off: the password alone signs in again.
    app.token_of(&worker.username, ENROLLED).await;
}
