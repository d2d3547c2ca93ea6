//! Sign-in, tokens, refresh families, throttling and account changes.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sanad::crypto::keyring::Keyring;
use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

#[tokio::test]
async fn a_user_signs_in_and_reads_their_own_account() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let user = app.user(Role::SocialWorker, &[city], None);

    let response = app.login(&user.username, &user.password).await;

    assert_eq!(response.status().as_u16(), 200);
    let pair: Value = response.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert!(pair["expires_in"].as_i64().unwrap() <= 900);
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 40);
    let me: Value = app
        .get_as(pair["access_token"].as_str().unwrap(), "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["username"], user.username.as_str());
    assert_eq!(me["role"], "social_worker");
    assert_eq!(me["city_ids"], json!([city.to_string()]));
    assert!(me["organisation_id"].is_null());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_look_the_same() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);

    let wrong = assert_problem(app.login(&user.username, "not-the-password-1").await, 401).await;
    let unknown = assert_problem(app.login("nobody-at-all", "not-the-password-1").await, 401).await;

    assert_eq!(wrong, unknown);
}

async fn median_login_time(app: &TestApp, username: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let response = app.login(username, "not-the-password-1").await;
        times.push(started.elapsed());
        assert_eq!(response.status().as_u16(), 401);
    }
    times.sort();
    times[2]
}

#[tokio::test]
async fn an_unknown_username_costs_a_password_check_too() {
    // Both failures run Argon2. Without the dummy check an unknown name
    // answers in a database round trip, over ten times faster; the bound
    // below is loose so that a busy machine does not fail it.
    let app = spawn_app_with_lenient_throttle().await;
    let user = app.user(Role::Auditor, &[], None);

    let wrong_password = median_login_time(&app, &user.username).await;
    let unknown_user = median_login_time(&app, "nobody-at-all").await;

    let ratio = unknown_user.as_secs_f64() / wrong_password.as_secs_f64();
    assert!(
        ratio > 0.3,
        "unknown {unknown_user:?} vs wrong {wrong_password:?}"
    );
}

async fn spawn_app_with_lenient_throttle() -> TestApp {
    crate::helpers::spawn_app_with(crate::helpers::TestDatabase::create(), |s| {
        s.auth.max_failures_per_username = 100;
        s.auth.max_failures_per_address = 100;
    })
    .await
}

#[tokio::test]
async fn repeated_failures_are_throttled_even_for_the_right_password() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);
    for _ in 0..5 {
        assert_eq!(
            app.login(&user.username, "not-the-password-1")
                .await
                .status()
                .as_u16(),
            401
        );
    }

    let throttled = app.login(&user.username, &user.password).await;

    assert_eq!(throttled.status().as_u16(), 429);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_problem(throttled, 429).await;
    // An unknown name is throttled the same way: no hint that it does not exist.
    for _ in 0..5 {
        app.login("ghost-user", "not-the-password-1").await;
    }
    assert_eq!(
        app.login("ghost-user", "whatever-password")
            .await
            .status()
            .as_u16(),
        429
    );
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_spent_token_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);
    let first: Value = app
        .login(&user.username, &user.password)
        .await
        .json()
        .await
        .unwrap();
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let second = refresh(&app, first_refresh).await;
    assert_eq!(second.status().as_u16(), 200);
    let second: Value = second.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);

    // The stolen first token comes back: the whole family dies.
    assert_problem(refresh(&app, first_refresh).await, 401).await;
    assert_problem(refresh(&app, second_refresh).await, 401).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);
    let pair: Value = app
        .login(&user.username, &user.password)
        .await
        .json()
        .await
        .unwrap();
    let access = pair["access_token"].as_str().unwrap();

    let response = app
        .post_as(
            access,
            "/api/v1/auth/logout",
            &json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;

    assert_eq!(response.status().as_u16(), 204);
    assert_problem(
        refresh(&app, pair["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
}

#[tokio::test]
async fn changing_the_password_ends_sessions_and_checks_the_new_one() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);
    let token = app.token(&user).await;

    let weak = app
        .post_as(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": user.password, "new_password": "password1234"}),
        )
        .await;
    let body = assert_problem(weak, 422).await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    let wrong = app
        .post_as(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": "not-it-at-all", "new_password": "amber-falcon-river-93"}),
        )
        .await;
    assert_eq!(
        assert_problem(wrong, 422).await["errors"][0]["field"],
        "current_password"
    );

    let changed = app
        .post_as(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": user.password, "new_password": "amber-falcon-river-93"}),
        )
        .await;

    assert_eq!(changed.status().as_u16(), 204);
    assert_problem(app.get_as(&token, "/api/v1/me").await, 401).await;
    assert_eq!(
        app.login(&user.username, &user.password)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.login(&user.username, "amber-falcon-river-93")
            .await
            .status()
            .as_u16(),
        200
    );
}

fn keyring(app: &TestApp) -> Keyring {
    Keyring::from_json(&std::fs::read_to_string(&app.keyring_path).unwrap()).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(user: &str, tv: i64) -> Value {
    json!({"iss": "sanad", "aud": "sanad-api", "sub": user, "exp": now() + 300, "nbf": now() - 5, "iat": now() - 5, "tv": tv})
}

fn sign(keyring: &Keyring, claims: &Value, kid: Option<&str>) -> String {
    let (active_kid, _) = keyring.signing_key();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.unwrap_or(active_kid).to_string());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_der(keyring.signing_pkcs8_der()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn every_kind_of_bad_token_is_a_401_never_a_500() {
    let app = spawn_app().await;
    let user = app.user(Role::Auditor, &[], None);
    let good = app.token(&user).await;
    assert_eq!(app.get_as(&good, "/api/v1/me").await.status().as_u16(), 200);
    let ring = keyring(&app);
    let other = Keyring::generate().unwrap();
    let id = user.id.as_str();

    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(id, 1);
        f(&mut c);
        sign(&ring, &c, None)
    };
    let expired = with(&|c| {
        c["exp"] = json!(now() - 120);
        c["iat"] = json!(now() - 1000);
        c["nbf"] = json!(now() - 1000);
    });
    let not_yet = with(&|c| c["nbf"] = json!(now() + 600));
    let wrong_iss = with(&|c| c["iss"] = json!("someone-else"));
    let wrong_aud = with(&|c| c["aud"] = json!("another-api"));
    let nbf_as_string = with(&|c| c["nbf"] = json!("later"));
    let no_exp = with(&|c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    let no_sub = with(&|c| {
        c.as_object_mut().unwrap().remove("sub");
    });
    let no_nbf = with(&|c| {
        c.as_object_mut().unwrap().remove("nbf");
    });
    let old_version = with(&|c| c["tv"] = json!(0));
    let other_key = sign(&other, &claims(id, 1), Some(ring.signing_key().0));
    let unknown_kid = sign(&ring, &claims(id, 1), Some("no-such-kid"));
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(id, 1))
    );
    // The classic confusion: HS256 "signed" with the public key as secret.
    let public = &ring.verifying_keys()[0].1;
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(ring.signing_key().0.to_string());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &claims(id, 1),
        &EncodingKey::from_secret(public),
    )
    .unwrap();

    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("garbage", Some("not.a.token".into())),
        ("empty", Some(String::new())),
        ("alg none", Some(alg_none)),
        ("another key", Some(other_key)),
        ("HS256 with the public key", Some(hs256)),
        ("expired", Some(expired)),
        ("not yet valid", Some(not_yet)),
        ("wrong iss", Some(wrong_iss)),
        ("wrong aud", Some(wrong_aud)),
        ("nbf of the wrong type", Some(nbf_as_string)),
        ("missing exp", Some(no_exp)),
        ("missing sub", Some(no_sub)),
        ("missing nbf", Some(no_nbf)),
        ("stale token_version", Some(old_version)),
        ("unknown kid", Some(unknown_kid)),
    ];
    for (name, token) in cases {
        let mut request = app.client.get(app.url("/api/v1/me"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{name}");
        assert_problem(response, 401).await;
    }
}

#[tokio::test]
async fn disabling_a_user_or_changing_their_role_stops_their_tokens_at_once() {
    let app = spawn_app().await;
    let city = app.city("MOS");
    let admin = app.signed_in(Role::Admin, &[], None).await;
    // A supervisor made a social worker: a narrowing, applied at once (a
    // widening waits for a second person: tests/api/accounts.rs).
    let worker = app.user(Role::CitySupervisor, &[city], None);
    let auditor = app.user(Role::Auditor, &[], None);
    let worker_token = app.token(&worker).await;
    let auditor_token = app.token(&auditor).await;

    let changed = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", worker.id),
            &json!({"role": "social_worker"}),
        )
        .await;
    assert_eq!(changed.status().as_u16(), 200);
    let disabled = app
        .patch_as(
            &admin,
            &format!("/api/v1/users/{}", auditor.id),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(disabled.status().as_u16(), 200);

    assert_problem(app.get_as(&worker_token, "/api/v1/me").await, 401).await;
    assert_problem(app.get_as(&auditor_token, "/api/v1/me").await, 401).await;
    assert_eq!(
        app.login(&auditor.username, &auditor.password)
            .await
            .status()
            .as_u16(),
        401
    );
    let fresh = app.token(&worker).await;
    let me: Value = app.get_as(&fresh, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "social_worker");
}

#[tokio::test]
async fn the_jwks_publishes_the_signing_key() {
    let app = spawn_app().await;

    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();

    let ring = keyring(&app);
    let kid = ring.signing_key().0;
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("active kid");
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key.get("d").is_none(), "no private part");
}
