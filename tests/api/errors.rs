//! The error contract: every kind of bad input answers problem+json with the
//! right status, never a bare actix error or a 500.
//!
//! Unknown routes and methods go through the real server. The body cases run
//! the real extractor and middleware in front of a small handler, so they
//! hold for every route that takes a JSON body.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test, web};
use sanad::error::ApiError;
use sanad::web::extract::{ApiJson, JsonLimits};
use sanad::web::middleware::{catch_panic, problem_for_bare_errors};
use serde::Deserialize;
use validator::Validate;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/no-such-thing").await;

    let body = assert_problem(response, 404).await;
    assert_eq!(body["type"], "urn:sanad:problem:not-found");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_naming_the_allowed_methods() {
    let app = spawn_app().await;

    let response = app
        .client
        .delete(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405).await;

    // `/cases/search` is not a case id: another method than POST is a 405.
    let response = app
        .client
        .patch(app.url("/api/v1/cases/search"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_problem(response, 405).await;

    let response = app
        .client
        .put(app.url("/api/v1/cases/8d1c7d1e-6a53-4c2f-9a43-2f0b8f0c5b11"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, PATCH");
    assert_problem(response, 405).await;
}

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
struct Person {
    #[validate(length(min = 1, max = 10))]
    name: String,
    #[validate(range(min = 0, max = 120))]
    age: u8,
}

async fn accept(body: ApiJson<Person>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"name": body.0.name, "age": body.0.age}))
}

async fn explode() -> HttpResponse {
    panic!("secret canary in a panic message")
}

async fn fail_inside_block() -> Result<HttpResponse, ApiError> {
    actix_web::web::block(|| -> Result<(), ApiError> { panic!("blocking canary") })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))??;
    Ok(HttpResponse::Ok().finish())
}

async fn call(req: test::TestRequest) -> (u16, String, serde_json::Value) {
    let app = test::init_service(
        App::new()
            .app_data(JsonLimits {
                body_bytes: 1024,
                ..JsonLimits::default()
            })
            .route("/people", web::post().to(accept))
            .route("/explode", web::get().to(explode))
            .route("/block", web::get().to(fail_inside_block))
            .wrap(from_fn(catch_panic))
            .wrap(from_fn(problem_for_bare_errors)),
    )
    .await;
    // An `Err` is what the server's dispatcher renders with `error_response`.
    let response = match test::try_call_service(&app, req.to_request()).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            let response = error.error_response();
            actix_web::dev::ServiceResponse::new(
                test::TestRequest::default().to_http_request(),
                response,
            )
        }
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = test::read_body(response).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, content_type, body)
}

fn post_json(body: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/people")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
}

fn assert_problem_parts(got: &(u16, String, serde_json::Value), status: u16) {
    assert_eq!(got.0, status, "{:?}", got.2);
    assert!(got.1.starts_with("application/problem+json"), "{}", got.1);
    assert_eq!(got.2["status"], status);
}

#[tokio::test]
async fn a_good_body_is_accepted() {
    let got = call(post_json(r#"{"name":"Ali","age":7}"#)).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let got = call(post_json(r#"{"name": "Ali", "#)).await;
    assert_problem_parts(&got, 400);
    assert_eq!(got.2["type"], "urn:sanad:problem:malformed-request");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let got = call(
        test::TestRequest::post()
            .uri("/people")
            .insert_header(("content-type", "text/plain"))
            .set_payload(r#"{"name":"Ali","age":7}"#),
    )
    .await;
    assert_problem_parts(&got, 415);
    let missing = call(
        test::TestRequest::post()
            .uri("/people")
            .set_payload(r#"{"name":"Ali","age":7}"#),
    )
    .await;
    assert_problem_parts(&missing, 415);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let big = format!(r#"{{"name":"{}","age":7}}"#, "a".repeat(2000));
    let got = call(post_json(&big)).await;
    assert_problem_parts(&got, 413);
}

#[tokio::test]
async fn unknown_fields_are_422_naming_the_field() {
    let got = call(post_json(r#"{"name":"Ali","age":7,"tribe":"x"}"#)).await;
    assert_problem_parts(&got, 422);
    assert_eq!(got.2["errors"][0]["field"], "tribe");
}

#[tokio::test]
async fn every_invalid_field_is_listed_without_its_value() {
    let got = call(post_json(r#"{"name":"CanaryNameTooLong","age":200}"#)).await;
    assert_problem_parts(&got, 422);
    let fields: Vec<&str> = got.2["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["age", "name"]);
    assert!(!got.2.to_string().contains("Canary"), "{}", got.2);
}

#[tokio::test]
async fn a_wrong_type_is_422_without_echoing_the_value() {
    let got = call(post_json(r#"{"name":"Ali","age":"CanarySeven"}"#)).await;
    assert_problem_parts(&got, 422);
    assert_eq!(got.2["errors"][0]["field"], "age");
    assert!(!got.2.to_string().contains("Canary"), "{}", got.2);
}

#[tokio::test]
async fn a_panic_is_a_500_with_no_detail() {
    for path in ["/explode", "/block"] {
        let got = call(test::TestRequest::get().uri(path)).await;
        assert_problem_parts(&got, 500);
        assert!(!got.2.to_string().contains("canary"), "{}", got.2);
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422() {
    // Serde reads a struct from an array of its fields; the API never does.
    let got = call(post_json(r#"["Ali", 7]"#)).await;
    assert_problem_parts(&got, 422);
    assert_eq!(got.2["errors"][0]["field"], "body");
    assert_eq!(got.2["errors"][0]["message"], "must be a JSON object");
}

#[tokio::test]
async fn a_nul_character_is_422_naming_the_field_without_echoing_it() {
    let got = call(post_json(r#"{"name":"Can\u0000ary","age":7}"#)).await;
    assert_problem_parts(&got, 422);
    assert_eq!(got.2["errors"][0]["field"], "name");
    assert!(!got.2.to_string().contains("Can"), "{}", got.2);

    // An escaped backslash followed by `u0000` is text, not a NUL.
    let got = call(post_json(r#"{"name":"a\\u0000","age":7}"#)).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
}
