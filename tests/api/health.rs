use std::time::{Duration, Instant};

use crate::helpers::{TestDatabase, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn liveness_answers_200() {
    let app = spawn_app().await;

    let response = app.get("/health/live").await;

    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readiness_answers_200_when_the_database_answers() {
    let app = spawn_app().await;

    let response = app.get("/health/ready").await;

    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readiness_follows_the_database_down_and_up_again_without_restart() {
    let db = TestDatabase::create();
    if !db.is_postgres() {
        // Only a server database can go away while the process keeps its
        // SQLite file open; this test runs in the PostgreSQL pass.
        return;
    }
    let app = spawn_app_with(db, |s| s.database.pool_connection_timeout_ms = 500).await;
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);

    app.db.set_reachable(false);
    let started = Instant::now();
    let down = app.get("/health/ready").await;
    let waited = started.elapsed();
    let body = assert_problem(down, 503).await;
    assert_eq!(body["type"], "urn:sanad:problem:unavailable");
    assert!(waited < Duration::from_secs(5), "took {waited:?}");

    app.db.set_reachable(true);
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/health/ready").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness did not come back");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_plain_one_is_kept() {
    let app = spawn_app().await;

    let made = app.get("/health/live").await;
    let kept = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();

    let made_id = made.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made_id).is_ok(), "{made_id}");
    assert_eq!(kept.headers()["x-request-id"], "trace-42");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/health/live").await;
    app.get("/no/such/place/12345").await;

    let response = app.get("/metrics").await;

    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"sanad_http_requests_total{method="GET",route="/health/live",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"sanad_http_request_duration_seconds_bucket{method="GET",route="/health/live",status="200""#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("12345"), "raw paths must not become labels");
    assert!(text.contains("sanad_db_pool_connections"), "{text}");
    assert!(text.contains("sanad_db_pool_max_connections 4"), "{text}");
}
