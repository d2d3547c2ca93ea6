//! Messages a client developer can act on: JSON types, not Rust ones; the
//! shape of a date or an id that did not parse; the field a 409 is about;
//! the steps a referral allows when it refuses one.

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, new_case, refer, spawn_app, step};

/// The one field error of a 422 answer to `body`, as (field, message).
async fn field_error(app: &crate::helpers::TestApp, token: &str, body: &Value) -> (String, String) {
    let problem = assert_problem(app.post_as(token, "/api/v1/cases", body).await, 422).await;
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{problem}");
    (
        errors[0]["field"].as_str().unwrap().to_string(),
        errors[0]["message"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn type_errors_speak_json_and_say_what_a_date_and_an_id_look_like() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::SocialWorker)
        .await;
    let case = new_case(s.city, "فاطمة حسن");
    let with = |path: &[&str], value: Value| {
        let mut body = case.clone();
        let mut at = &mut body;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        body
    };

    let cases = [
        (
            with(&["origin"], json!("camp")),
            "origin",
            "must be an object",
        ),
        (
            with(&["vulnerability_flags"], json!("none")),
            "vulnerability_flags",
            "must be an array",
        ),
        (
            with(&["subject", "full_name"], json!(42)),
            "subject.full_name",
            "must be text",
        ),
        (
            with(&["consent", "share_with_providers"], json!("yes")),
            "consent.share_with_providers",
            "must be true or false",
        ),
        (
            with(&["consent", "given_at"], json!("2026-03-02T09:00:00")),
            "consent.given_at",
            "must be a date (2026-05-14) or a date and time with its offset (2026-05-14T09:30:00Z)",
        ),
        (
            with(&["city_id"], json!("mosul")),
            "city_id",
            "must be a UUID, like 0b6f5a51-8c37-4b8e-9d3c-2f1e4a7c9b10",
        ),
    ];
    for (body, field, message) in cases {
        assert_eq!(
            field_error(&s.app, &s.token, &body).await,
            (field.to_string(), message.to_string())
        );
    }

    let (field, message) =
        field_error(&s.app, &s.token, &with(&["subject", "sex"], json!("f"))).await;
    assert_eq!(field, "subject.sex");
    assert!(
        message.starts_with("must be one of ") && !message.contains('`'),
        "{message}"
    );
    assert!(
        message.contains("female") && message.contains("male"),
        "{message}"
    );
}

#[tokio::test]
async fn a_taken_code_or_username_is_a_409_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin, &[], None).await;
    let governorates: Value = app
        .get_as(&admin, "/api/v1/governorates")
        .await
        .json()
        .await
        .unwrap();
    let taken_governorate = governorates[0]["code"].as_str().unwrap();
    let governorate_id = governorates[0]["id"].as_str().unwrap();
    let city = json!({"code": "QAY", "name_en": "Qayyarah", "name_ar": "القيارة", "governorate_id": governorate_id});
    assert_eq!(
        app.post_as(&admin, "/api/v1/cities", &city)
            .await
            .status()
            .as_u16(),
        201
    );

    for (path, body) in [
        ("/api/v1/cities", city.clone()),
        (
            "/api/v1/governorates",
            json!({"code": taken_governorate, "name_en": "Again", "name_ar": "مرة أخرى"}),
        ),
    ] {
        let problem = assert_problem(app.post_as(&admin, path, &body).await, 409).await;
        assert_eq!(problem["errors"][0]["field"], "code", "{path}: {problem}");
        assert_eq!(problem["errors"][0]["message"], "is taken", "{problem}");
    }

    let user = json!({"username": "noor.k", "display_name": "Noor", "role": "auditor"});
    assert_eq!(
        app.post_as(&admin, "/api/v1/users", &user)
            .await
            .status()
            .as_u16(),
        201
    );
    let problem = assert_problem(app.post_as(&admin, "/api/v1/users", &user).await, 409).await;
    assert_eq!(problem["errors"][0]["field"], "username", "{problem}");
}

#[tokio::test]
async fn a_refused_referral_step_names_the_steps_allowed_now() {
    let s = spawn_app()
        .with_city("MOS")
        .signed_in(Role::ProviderStaff)
        .await;
    let worker = s.app.signed_in(Role::SocialWorker, &[s.city], None).await;
    let case = create(&s.app, &worker, &new_case(s.city, "زينب علي")).await;
    let referral = refer(
        &s.app,
        &worker,
        case["id"].as_str().unwrap(),
        s.org.unwrap(),
    )
    .await;
    let id = referral["id"].as_str().unwrap();

    let early = assert_problem(
        step(
            &s.app,
            &s.token,
            id,
            "complete",
            &json!({"outcome": "other"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(
        early["detail"],
        "The referral is pending: it cannot complete. Allowed now: accept, decline, cancel."
    );
    assert_eq!(
        step(&s.app, &s.token, id, "decline", &json!({"reason": "Full"}))
            .await
            .status(),
        200
    );
    // The provider no longer sees a declined referral; the referrer does.
    let late = assert_problem(
        step(&s.app, &worker, id, "cancel", &json!({"reason": "Moved"})).await,
        409,
    )
    .await;
    assert_eq!(
        late["detail"],
        "The referral is declined: it cannot cancel. Nothing more can be done to it."
    );
}
