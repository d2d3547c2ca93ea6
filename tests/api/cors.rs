//! CORS: closed unless configured, and then open to exactly the configured
//! origins, for the API's own methods and headers, never with credentials.

use reqwest::Method;

use crate::helpers::{TestApp, TestDatabase, assert_problem, spawn_app, spawn_app_with};

const APP: &str = "https://app.sanad.example";
const EVIL: &str = "https://evil.example";

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    let mut request = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/cases"))
        .header("origin", origin)
        .header("access-control-request-method", method);
    if !headers.is_empty() {
        request = request.header("access-control-request-headers", headers);
    }
    request.send().await.expect("request sent")
}

async fn get_from(app: &TestApp, origin: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("origin", origin)
        .send()
        .await
        .expect("request sent")
}

fn has_no_cors_grant(response: &reqwest::Response) {
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert!(
            response.headers().get(name).is_none(),
            "{name} on {}",
            response.url()
        );
    }
}

#[tokio::test]
async fn by_default_no_origin_is_allowed_and_every_preflight_is_refused() {
    let app = spawn_app().await;

    for origin in [APP, EVIL, "null"] {
        let answer = get_from(&app, origin, "/health/live").await;
        assert_eq!(
            answer.status().as_u16(),
            200,
            "the request itself is served"
        );
        has_no_cors_grant(&answer);
        // An error answer does not grant either.
        let answer = get_from(&app, origin, "/api/v1/me").await;
        assert_eq!(answer.status().as_u16(), 401);
        has_no_cors_grant(&answer);

        let refused = preflight(&app, origin, "POST", "authorization,content-type").await;
        has_no_cors_grant(&refused);
        let body = assert_problem(refused, 403).await;
        assert_eq!(body["type"], "urn:sanad:problem:cross-origin-refused");
    }
}

#[tokio::test]
async fn a_configured_origin_is_allowed_exactly_and_no_other() {
    let app = spawn_app_with(TestDatabase::create(), |s| {
        s.server.cors_allowed_origins = vec![APP.to_string()];
        s.server.cors_max_age_secs = 120;
    })
    .await;

    let ok = preflight(&app, APP, "PATCH", "authorization,content-type,if-match").await;
    assert_eq!(ok.status().as_u16(), 204);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-methods"], "GET, POST, PATCH");
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap();
    for name in ["authorization", "content-type", "if-match"] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    assert_eq!(h["access-control-max-age"], "120");
    assert!(h.get("access-control-allow-credentials").is_none());
    assert!(h["vary"].to_str().unwrap().contains("origin"));

    // The answer to the real request names the origin, and lets the page
    // read the headers it needs.
    let answer = get_from(&app, APP, "/health/live").await;
    assert_eq!(answer.headers()["access-control-allow-origin"], APP);
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("etag") && exposed.contains("location"),
        "{exposed}"
    );
    assert!(
        answer
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let vary: Vec<_> = answer.headers().get_all("vary").iter().collect();
    assert!(vary.iter().any(|v| *v == "origin"), "{vary:?}");
    // Error answers too, so the page can read the problem.
    let unauthorised = get_from(&app, APP, "/api/v1/me").await;
    assert_eq!(unauthorised.headers()["access-control-allow-origin"], APP);
    assert_problem(unauthorised, 401).await;

    // Any other origin, even a look-alike: served, but not granted; its
    // preflights refused.
    for other in [
        EVIL,
        "https://app.sanad.example.evil.example",
        "http://app.sanad.example",
        "https://app.sanad.example:444",
        "null",
    ] {
        let answer = get_from(&app, other, "/health/live").await;
        has_no_cors_grant(&answer);
        let refused = preflight(&app, other, "GET", "").await;
        has_no_cors_grant(&refused);
        assert_problem(refused, 403).await;
    }

    // The allowed origin, asking for a method or header the API does not use.
    for (method, headers) in [
        ("DELETE", ""),
        ("PUT", ""),
        ("GET", "x-custom"),
        ("POST", "cookie"),
    ] {
        let refused = preflight(&app, APP, method, headers).await;
        has_no_cors_grant(&refused);
        assert_problem(refused, 403).await;
    }
}

#[tokio::test]
async fn a_wildcard_or_a_path_in_the_setting_stops_start_up() {
    for bad in [
        "*",
        "https://*.sanad.example",
        "https://app.sanad.example/",
        "null",
    ] {
        let mut settings =
            sanad::settings::Settings::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        settings.server.cors_allowed_origins = vec![bad.to_string()];
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("server.cors_allowed_origins"), "{bad}: {err}");
    }
}
