//! Login throttling that cannot be raced: attempts in flight count, the
//! budget is the database's (shared by every node), password work is
//! bounded, and the client address is the peer's unless a trusted proxy
//! names it. Password checks are counted by the server's own metric
//! (`sanad_password_checks_total`: every Argon2 run).

use futures_util::future::join_all;
use sanad::domain::Role;
use serde_json::json;

use crate::helpers::{TestApp, TestDatabase, spawn_app_with, spawn_second_node};

const CHECKS: &str = "sanad_password_checks_total";

/// An app where only the throttle's budgets can refuse an attempt: no cap
/// on attempts in flight from one address, room for all in the queue.
async fn only_budgets(per_username: u32, per_address: u32) -> TestApp {
    spawn_app_with(TestDatabase::create(), move |s| {
        s.auth.max_failures_per_username = per_username;
        s.auth.max_failures_per_address = per_address;
        s.auth.max_concurrent_logins_per_address = 1000;
        s.auth.password_queue = 1024;
    })
    .await
}

/// Sends every (username, password) at once; the statuses.
async fn all_at_once(app: &TestApp, attempts: &[(String, &str)]) -> Vec<u16> {
    let sent = attempts
        .iter()
        .map(|(user, password)| async move { app.login(user, password).await.status().as_u16() });
    join_all(sent).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Every answer a check (401) or a refusal (429, or 503 when the database
/// pool is slow to lend a connection on a busy machine).
fn refused_or_checked(statuses: &[u16]) -> bool {
    statuses.iter().all(|s| matches!(s, 401 | 429 | 503))
}

#[tokio::test]
async fn concurrent_wrong_logins_for_one_username_check_at_most_its_budget() {
    let app = only_budgets(5, 1000).await;
    let user = app.user(Role::Auditor, &[], None);
    let before = app.metric(CHECKS).await;

    let attempts: Vec<(String, &str)> = (0..30)
        .map(|_| (user.username.clone(), "not-the-password-1"))
        .collect();
    let statuses = all_at_once(&app, &attempts).await;

    let checked = app.metric(CHECKS).await - before;
    assert!(checked <= 5.0, "{checked} password checks: {statuses:?}");
    assert!(count(&statuses, 401) <= 5, "{statuses:?}");
    assert!(refused_or_checked(&statuses), "{statuses:?}");
    // The right password waits for the window too.
    let right = app.login(&user.username, &user.password).await;
    assert_eq!(right.status().as_u16(), 429);
}

#[tokio::test]
async fn concurrent_logins_from_one_address_check_at_most_its_budget() {
    let app = only_budgets(100, 10).await;
    let before = app.metric(CHECKS).await;

    let attempts: Vec<(String, &str)> = (0..40)
        .map(|n| (format!("nobody-{n}"), "not-the-password-1"))
        .collect();
    let statuses = all_at_once(&app, &attempts).await;

    let checked = app.metric(CHECKS).await - before;
    assert!(checked <= 10.0, "{checked} password checks: {statuses:?}");
    assert!(count(&statuses, 401) <= 10, "{statuses:?}");
    assert!(refused_or_checked(&statuses), "{statuses:?}");
}

#[tokio::test]
async fn with_every_worker_busy_and_the_queue_full_a_login_is_a_503_and_checks_nothing() {
    let app = spawn_app_with(TestDatabase::create(), |s| {
        s.auth.password_workers = 1;
        s.auth.password_queue = 0;
        s.auth.max_concurrent_logins_per_address = 1000;
        s.auth.max_failures_per_username = 1000;
        s.auth.max_failures_per_address = 1000;
    })
    .await;
    let before = app.metric(CHECKS).await;

    let sent = (0..12).map(|n| {
        let app = &app;
        async move {
            let response = app
                .login(&format!("nobody-{n}"), "not-the-password-1")
                .await;
            let retry = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), retry)
        }
    });
    let answers = join_all(sent).await;

    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(
        busy.iter().all(|(_, retry)| *retry),
        "503 carries Retry-After"
    );
    let checked = app.metric(CHECKS).await - before;
    assert_eq!(checked as usize, 12 - busy.len(), "{answers:?}");
    assert!(app.metric("sanad_password_checks_refused_total").await >= busy.len() as f64);
}

#[tokio::test]
async fn two_nodes_share_one_budget() {
    let app = only_budgets(5, 1000).await;
    let other = spawn_second_node(&app).await;
    let user = app.user(Role::Auditor, &[], None);

    for node in [&app, &app, &app, &other, &other] {
        let failed = node.login(&user.username, "not-the-password-1").await;
        assert_eq!(failed.status().as_u16(), 401);
    }

    for node in [&app, &other] {
        let refused = node.login(&user.username, &user.password).await;
        assert_eq!(refused.status().as_u16(), 429);
    }
}

async fn login_via(app: &TestApp, forwarded_for: &str, username: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"username": username, "password": "not-the-password-1"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_client_is_the_address_a_trusted_proxy_names_and_only_then() {
    let behind_proxy = spawn_app_with(TestDatabase::create(), |s| {
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        s.auth.max_failures_per_address = 3;
    })
    .await;
    for n in 0..3 {
        let status = login_via(&behind_proxy, "198.51.100.1, 203.0.113.1", &format!("u{n}")).await;
        assert_eq!(status, 401);
    }
    assert_eq!(login_via(&behind_proxy, "203.0.113.1", "u9").await, 429);
    // What the client prepends does not change who it is.
    assert_eq!(
        login_via(&behind_proxy, "203.0.113.9, 203.0.113.1", "u9").await,
        429
    );
    assert_eq!(login_via(&behind_proxy, "203.0.113.2", "u9").await, 401);

    // No trusted proxy: the header is not read, every attempt is the peer's.
    let direct = spawn_app_with(TestDatabase::create(), |s| {
        s.auth.max_failures_per_address = 3;
    })
    .await;
    for n in 0..3 {
        let status = login_via(&direct, &format!("203.0.113.{n}"), &format!("u{n}")).await;
        assert_eq!(status, 401);
    }
    assert_eq!(login_via(&direct, "203.0.113.77", "u9").await, 429);
}
